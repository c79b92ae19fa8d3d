// A real server on 127.0.0.1 with release 2.0.0 signed and published by the real CLI (chunk
// index included), a confirmed plan whose window opens in a few seconds, and a device on disk
// running 1.0.0 whose running image is the old ext4 image of fixtures/delta-images.ts.
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, seedFleet } from '../helpers/server.js';
import { prepareDevice, type DeviceOnDisk } from '../helpers/agent.js';
import { runSluice } from '../helpers/processes.js';
import { windowStartUtc } from '../helpers/scenario.js';
import { buildDeltaImages, type DeltaImages } from '../../fixtures/delta-images.js';

/** 32 MiB keeps the suite to seconds; bench/delta.ts measures 256 MiB. */
export const testImageMiB = 32;

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const data of createReadStream(path)) hash.update(data as Buffer);
  return hash.digest('hex');
}

export async function deltaScenario(
  t: Parameters<typeof startTestServer>[0],
  options: { pair?: 'ext4' | 'compressed'; secondsBeforeWindow?: number; proxy?: (url: string) => Promise<{ url: string }> } = {},
) {
  const images: DeltaImages = await buildDeltaImages(testImageMiB);
  const pair = images[options.pair ?? 'ext4'];
  const lead = (options.secondsBeforeWindow ?? 3) * 1000;
  let offset = windowStartUtc.getTime() - lead - Date.now();
  const server = await startTestServer(t, { now: () => new Date(Date.now() + offset), pollSeconds: 1 });
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const fleet = await seedFleet(server, { timezone: 'Europe/Madrid' });
  const token = await fleet.addDevice('emu-0001');
  const work = mkdtempSync(join(tmpdir(), 'sluice-delta-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));

  const manifestPath = join(work, 'manifest.json');
  const signed = await runSluice([
    'release',
    'sign',
    pair.new,
    '--key',
    join(server.dataDir, 'keys', 'release.key'),
    '--product',
    'emu',
    '--version',
    '2.0.0',
    '--hardware',
    'emu-hw-1',
    '--out',
    manifestPath,
  ]);
  if (signed.code !== 0) throw new Error(signed.stderr);
  const published = await runSluice([
    'release',
    'publish',
    pair.new,
    '--manifest',
    manifestPath,
    '--server',
    url,
    '--token',
    fleet.tokens.release,
  ]);
  if (published.code !== 0) throw new Error(published.stderr);
  const release = JSON.parse(published.stdout) as { id: string };

  const plan = (
    await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
      customer: 'acme',
      release: release.id,
      windows: [{ start: '2027-01-10T02:00', end: '2027-01-10T05:00', timezone: 'Europe/Madrid' }],
      deadline: '2027-02-01T00:00:00Z',
    })
  ).json;
  await server.call('POST', `/api/v1/plans/${plan.id}/propose`, fleet.tokens.support);
  const confirmed = await server.call('POST', `/api/v1/plans/${plan.id}/confirm`, fleet.tokens.customer, {
    window: 0,
    maintainer: { name: 'Ana', phone: '+34 600' },
  });
  if (confirmed.status !== 200) throw new Error(confirmed.body);
  offset = windowStartUtc.getTime() - lead - Date.now();

  const deviceServer = options.proxy ? (await options.proxy(url)).url : url;
  const device: DeviceOnDisk = prepareDevice(join(work, 'device'), {
    server: deviceServer,
    deviceId: 'emu-0001',
    token,
    rootPath: join(server.dataDir, 'keys', 'root.json'),
    // The running slot's image is the old one: the first delta's seed.
    extra: { delta: { source: pair.old } },
  });
  return {
    server,
    fleet,
    url,
    images,
    pair,
    device,
    releaseId: release.id,
    planId: plan.id as string,
    manifestPath,
    events: async () => (await server.app.sluice.store.devices.history('emu-0001', 10_000)).reverse(),
    plan: async () => (await server.call('GET', `/api/v1/plans/${plan.id}`, fleet.tokens.support)).json,
  };
}
