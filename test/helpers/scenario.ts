// A listening test server with one customer, a published release and a confirmed plan whose
// window opens a few seconds after the test starts. The server's clock runs ahead of the real
// one so that a window (minute precision, local time) can open "in a few seconds".
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ServerOptions } from '../../server/config.js';
import { startTestServer, seedFleet, signedManifest, uploadRelease, type ManifestFields } from './server.js';

export const windowStartUtc = new Date('2027-01-10T01:00:00Z'); // 02:00 in Madrid

export async function confirmedPlanScenario(
  t: Parameters<typeof startTestServer>[0],
  options: {
    secondsBeforeWindow?: number;
    devices?: string[];
    artifact?: Buffer;
    manifest?: Partial<ManifestFields>;
    waves?: unknown[];
    server?: Partial<ServerOptions>;
    /** The server's clock stops short of the window until `openWindow()`: a test that must see
     * a step happen before the window cannot then lose the race on a loaded machine. */
    holdBeforeWindow?: boolean;
  } = {},
) {
  // The server's clock runs `secondsBeforeWindow` before the window when the scenario is handed
  // over, however long the set-up took (a fresh PostgreSQL database takes a while).
  const lead = (options.secondsBeforeWindow ?? 4) * 1000;
  let offset = windowStartUtc.getTime() - lead - Date.now();
  let held = options.holdBeforeWindow === true;
  const serverNow = () => new Date(held ? Math.min(Date.now() + offset, windowStartUtc.getTime() - 1) : Date.now() + offset);
  const server = await startTestServer(t, { ...options.server, now: serverNow, pollSeconds: 1 });
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const fleet = await seedFleet(server, { timezone: 'Europe/Madrid' });
  const tokens: Record<string, string> = {};
  for (const id of options.devices ?? ['emu-0001']) tokens[id] = await fleet.addDevice(id);
  const artifact = options.artifact ?? randomBytes(300 * 1024);
  const manifest = signedManifest(artifact, { product: 'emu', version: '2.0.0', ...options.manifest }, [server.keys.release]);
  const release = await uploadRelease(server, fleet.tokens.release, manifest, artifact);
  if (release.status !== 201) throw new Error(JSON.stringify(release.json));
  const plan = (
    await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
      customer: 'acme',
      release: release.json.id,
      windows: [{ start: '2027-01-10T02:00', end: '2027-01-10T05:00', timezone: 'Europe/Madrid' }],
      deadline: '2027-02-01T00:00:00Z',
      ...(options.waves ? { waves: options.waves } : {}),
    })
  ).json;
  await server.call('POST', `/api/v1/plans/${plan.id}/propose`, fleet.tokens.support);
  const confirmed = await server.call('POST', `/api/v1/plans/${plan.id}/confirm`, fleet.tokens.customer, {
    window: 0,
    maintainer: { name: 'Ana', phone: '+34 600' },
  });
  if (confirmed.status !== 200) throw new Error(confirmed.body);
  offset = windowStartUtc.getTime() - lead - Date.now();
  return {
    server,
    fleet,
    url,
    tokens,
    artifact,
    planId: plan.id as string,
    releaseId: release.json.id as string,
    rootPath: join(server.dataDir, 'keys', 'root.json'),
    workDirectory: mkdtempSync(join(tmpdir(), 'sluice-device-')),
    serverNow,
    /** Lets a held clock (`holdBeforeWindow`) run again, from the window's start at the latest. */
    openWindow: () => {
      held = false;
      offset = Math.max(offset, windowStartUtc.getTime() - Date.now());
    },
    /** The device's events as the server stored them, oldest first. */
    events: async (device: string) => (await server.app.sluice.store.devices.history(device, 10_000)).reverse(),
    plan: async () => (await server.call('GET', `/api/v1/plans/${plan.id}`, fleet.tokens.support)).json,
    readRoot: () => readFileSync(join(server.dataDir, 'keys', 'root.json'), 'utf8'),
  };
}
