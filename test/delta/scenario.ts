// One real server on 127.0.0.1 per test file with release 2.0.0 signed and published by the
// real CLI (chunk index included) and one confirmed plan whose window opens a second after the
// set-up; any number of devices, each on disk running 1.0.0 whose running image is the old ext4
// image of fixtures/delta-images.ts, each run by the bundled agent (build/agent.mjs) as a
// device runs it: plain node, no TypeScript loader to start for every run.
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, seedFleet } from '../helpers/server.js';
import { prepareDevice, waitFor, type DeviceOnDisk } from '../helpers/agent.js';
import { runSluice } from '../helpers/processes.js';
import { windowStartUtc } from '../helpers/scenario.js';
import { buildDeltaImages } from '../../fixtures/delta-images.js';
import type { ServerOptions } from '../../server/config.js';
// @ts-expect-error: plain JavaScript build script without type declarations
import { bundle, root } from '../../build/agent.mjs';

/** 32 MiB keeps the suite to seconds; bench/delta.ts measures 256 MiB. */
export const testImageMiB = 32;

type Teardown = Parameters<typeof startTestServer>[0];

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const data of createReadStream(path)) hash.update(data as Buffer);
  return hash.digest('hex');
}

export async function deltaServer(t: Teardown, options: { devices: string[]; server?: Partial<ServerOptions> }) {
  const images = await buildDeltaImages(testImageMiB);
  const pair = images.ext4;
  const work = mkdtempSync(join(tmpdir(), 'sluice-delta-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const agentFile = join(work, 'sluice-agent.mjs');
  const bundled = bundle(join(root, 'cli', 'agent-bundle.ts'), agentFile) as Promise<void>;

  let offset = 0;
  const server = await startTestServer(t, { ...options.server, now: () => new Date(Date.now() + offset), pollSeconds: 1 });
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const fleet = await seedFleet(server, { timezone: 'Europe/Madrid' });
  const tokens = new Map<string, string>();
  // Every device before the plan: the plan takes the customer's devices when it is made.
  for (const id of options.devices) tokens.set(id, await fleet.addDevice(id));

  const manifestPath = join(work, 'manifest.json');
  const key = join(server.dataDir, 'keys', 'release.key');
  const signed = await runSluice([
    'release',
    'sign',
    pair.new,
    '--key',
    key,
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
  // Before the window: the plan can still be proposed and confirmed.
  offset = windowStartUtc.getTime() - 60_000 - Date.now();
  await server.call('POST', `/api/v1/plans/${plan.id}/propose`, fleet.tokens.support);
  const confirmed = await server.call('POST', `/api/v1/plans/${plan.id}/confirm`, fleet.tokens.customer, {
    window: 0,
    maintainer: { name: 'Ana', phone: '+34 600' },
  });
  if (confirmed.status !== 200) throw new Error(confirmed.body);
  // The window opens in a second and stays open for the rest of the file (three hours).
  offset = windowStartUtc.getTime() - 1000 - Date.now();
  await bundled;

  const events = async (device: string) => (await server.app.sluice.store.devices.history(device, 10_000)).reverse();
  return {
    server,
    fleet,
    url,
    images,
    pair,
    releaseId: release.id,
    manifestPath,
    events,
    plan: async () => (await server.call('GET', `/api/v1/plans/${plan.id}`, fleet.tokens.support)).json,
    /** A device on disk for `id`, talking to `through` (a proxy) or to the server itself. */
    device: (id: string, through = url): DeviceOnDisk =>
      prepareDevice(join(work, id), {
        server: through,
        deviceId: id,
        token: tokens.get(id)!,
        rootPath: join(server.dataDir, 'keys', 'root.json'),
        // The running slot's image is the old one: the first delta's seed.
        extra: { delta: { source: pair.old } },
      }),
    /** Runs the bundled agent for `device`. */
    start: (device: DeviceOnDisk, environment: Record<string, string> = {}) => startBundledAgent(t, agentFile, device, environment),
    /** Runs the agent until `device` reports `committed`; its output. */
    runToCommit: async (device: DeviceOnDisk, id: string) => {
      const agent = startBundledAgent(t, agentFile, device, {});
      try {
        await waitFor(async () => (await events(id)).some((event) => event.state === 'committed'), 'the commit', 60_000);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${agent.output()}`, { cause: error });
      } finally {
        await agent.stop();
      }
      return agent.output();
    },
  };
}

export type DeltaServer = Awaited<ReturnType<typeof deltaServer>>;

function startBundledAgent(t: Teardown, agentFile: string, device: DeviceOnDisk, environment: Record<string, string>) {
  const child = spawn(process.execPath, [agentFile, 'agent', '--config', device.configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...environment },
  });
  let output = '';
  const collect = (data: Buffer) => {
    output += data.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  t.teardown(stop);
  return { output: () => output, exited, stop };
}
