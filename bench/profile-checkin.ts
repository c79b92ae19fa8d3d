// Profiles the check-in hot path: runs a sluice server under --cpu-prof while autocannon loads
// it, then prints the functions that took the most CPU, by self time and by total time (a
// function and everything it called). `npm run bench:profile`; PROFILE_SECONDS (default 5);
// PROFILE_DATABASE=postgres profiles a server on a fresh PostgreSQL database (bench/postgres.ts);
// PROFILE_OUT=FILE keeps the raw profile, with the measured window.
// Only samples taken during the measured load count: start-up (the TypeScript loader
// compiling every module) and a warm-up load are left out, so the shares are the steady state.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSluice, startProcess, root, sluiceScript, buildSluice } from './processes.js';
import { seedDevices } from './seed.js';
import { loadCheckins } from './checkin.js';
import { createBenchDatabase } from './postgres.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const seconds = Number(process.env.PROFILE_SECONDS ?? 5);
const dataDir = mkdtempSync(join(tmpdir(), 'sluice-profile-'));
const profiles = mkdtempSync(join(tmpdir(), 'sluice-profiles-'));
const postgres = process.env.PROFILE_DATABASE === 'postgres' ? await createBenchDatabase() : null;
const extra = postgres ? ['--database', postgres.url] : [];
try {
  await buildSluice();
  const boot = await startSluice(dataDir, extra);
  await boot.stop();
  const tokens = await seedDevices(dataDir, 1000, postgres?.url);
  const server = await startProcess(
    process.execPath,
    ['--cpu-prof', '--cpu-prof-dir', profiles, sluiceScript, 'server', '--data-dir', dataDir, '--port', '0', '--quiet', ...extra],
    /listening on (http:\/\/[\d.:]+)/,
  );
  const url = `${server.match[1]}/api/v1/device/checkin`;
  await loadCheckins(url, tokens, 1);
  const result = await loadCheckins(url, tokens, seconds);
  const loadEnded = performance.now();
  await server.stop();
  const stopMicroseconds = (performance.now() - loadEnded) * 1000;
  const profile = JSON.parse(
    readFileSync(
      join(
        profiles,
        readdirSync(profiles).find((name) => name.endsWith('.cpuprofile'))!,
      ),
      'utf8',
    ),
  ) as CpuProfile;
  const window = { from: profile.endTime - stopMicroseconds - seconds * 1e6, to: profile.endTime - stopMicroseconds };
  report(profile, window, result.perSecond);
  // PROFILE_OUT keeps the raw profile (for Chrome's DevTools or a closer look).
  if (process.env.PROFILE_OUT) writeFileSync(process.env.PROFILE_OUT, JSON.stringify({ ...profile, window }));
} finally {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(profiles, { recursive: true, force: true });
  await postgres?.drop();
}

function report(profile: CpuProfile, window: { from: number; to: number }, perSecond: number) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const label = (node: ProfileNode) => {
    const frame = node.callFrame;
    return `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber}`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const ours = new Set<string>();
  const packages = new Map<string, number>();
  const packageOf = (url: string) =>
    /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
    (url.includes(root) ? 'sluice' : url.startsWith('node:') ? 'node' : url || '(native, gc, idle)');
  let measured = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (at < window.from || at > window.to) return;
    measured += delta;
    const leaf = nodes.get(id)!;
    self.set(label(leaf), (self.get(label(leaf)) ?? 0) + delta);
    const where = packageOf(leaf.callFrame.url);
    packages.set(where, (packages.get(where) ?? 0) + delta);
    // A recursive function counts once per sample in its total.
    const seen = new Set<string>();
    for (let node: ProfileNode | undefined = leaf; node; node = nodes.get(parents.get(node.id) ?? -1)) {
      const key = label(node);
      if (node.callFrame.url.includes(root) && !node.callFrame.url.includes('node_modules')) ours.add(key);
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + delta);
    }
  });
  const share = (time: number) => `${((time / measured) * 100).toFixed(1).padStart(5)}%`;
  console.log(`${perSecond.toFixed(0)} check-ins/s over ${seconds} s; ${(measured / 1e6).toFixed(1)} s of samples`);
  console.log('top self time:');
  for (const [key, time] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${share(time)}  ${key}`);
  // Self time by where the code lives: which dependency, or Node itself, the time went to.
  console.log('self time by package:');
  for (const [key, time] of [...packages.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${share(time)}  ${key}`);
  // Total time of sluice's own functions says which step of the check-in costs what.
  console.log('total time of sluice functions:');
  for (const [key, time] of [...total.entries()]
    .filter(([key]) => ours.has(key))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 20))
    console.log(`${share(time)}  ${key}`);
}
