// `sluice simulate --devices N` through one window: every device must commit and every report
// arrive; the server's CPU time and peak memory are reported.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { startSluice, startProcess, cpuSeconds, peakRssMiB, sluiceScript } from './processes.js';
import { openStore } from '../server/storage/open.js';

/** How long the simulation may run before it reports what it reached (BENCH_FLEET_SECONDS). */
const fleetSeconds = Number(process.env.BENCH_FLEET_SECONDS ?? 900);

export async function fleetRun(devices: number) {
  const work = mkdtempSync(join(tmpdir(), 'sluice-bench-fleet-'));
  try {
    const dataDir = join(work, 'data');
    const server = await startSluice(dataDir, ['--poll-seconds', '5']);
    const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const call = async (path: string, body: unknown, token = admin) => {
      const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return response.json() as Promise<Record<string, any>>;
    };
    await call('/api/v1/products', { id: 'emu', name: 'EMU' });
    await call('/api/v1/customers', { id: 'sim', name: 'Simulated', timezone: 'Europe/Madrid' });
    const release = (await call('/api/v1/users', { username: 'r', role: 'release' })).token;
    const support = (await call('/api/v1/users', { username: 's', role: 'support' })).token;
    const customer = (await call('/api/v1/users', { username: 'c', role: 'customer', customer: 'sim' })).token;
    writeFileSync(join(work, 'image.bin'), randomBytes(64 * 1024));
    execFileSync(process.execPath, [sluiceScript, 'release', 'sign', join(work, 'image.bin'), '--key', join(dataDir, 'keys', 'release.key'), '--product', 'emu', '--version', '2.0.0', '--hardware', 'emu-hw-1', '--out', join(work, 'm.json')]);
    const published = JSON.parse(execFileSync(process.execPath, [sluiceScript, 'release', 'publish', join(work, 'image.bin'), '--manifest', join(work, 'm.json'), '--server', server.url, '--token', release]).toString());
    // One emergency window ("as soon as the customer consents"): the whole fleet installs at once.
    const plan = await call('/api/v1/plans', { customer: 'sim', release: published.id, windows: [{ asap: true }] }, support);
    await call(`/api/v1/plans/${plan.id}/propose`, {}, support);
    await call(`/api/v1/plans/${plan.id}/confirm`, { window: 0, maintainer: { name: 'Bench', phone: '000' } }, customer);
    const cpuBefore = cpuSeconds(server.child.pid!);
    const started = Date.now();
    const simulation = await startProcess(process.execPath, [sluiceScript, 'simulate', '--server', server.url, '--token', support, '--devices', String(devices), '--customer', 'sim', '--data-dir', join(work, 'sim'), '--until-version', '2.0.0', '--duration', String(fleetSeconds)], /final: (\{.*\})/, { timeoutMs: (fleetSeconds + 60) * 1000 });
    const seconds = (Date.now() - started) / 1000;
    const serverCpuSeconds = cpuSeconds(server.child.pid!) - cpuBefore;
    const serverPeakRssMiB = peakRssMiB(server.child.pid!);
    await simulation.stop();
    await server.stop();
    const store = await openStore({ dataDir });
    const committed = (await store.devices.list({ customer: 'sim' })).filter((device) => device.version === '2.0.0').length;
    const events = await store.devices.eventCount();
    await store.close();
    return { committed, events, expectedEvents: devices * 8, seconds, serverCpuSeconds, serverPeakRssMiB };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
