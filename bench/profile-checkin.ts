// Profiles the check-in hot path: runs a sluice server under --cpu-prof while autocannon loads
// it, then prints the functions that took the most CPU (self time). `npm run bench:profile`.
import autocannon from 'autocannon';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSluice, startProcess, root } from './processes.js';
import { seedDevices } from './seed.js';

const dataDir = mkdtempSync(join(tmpdir(), 'sluice-profile-'));
const profiles = mkdtempSync(join(tmpdir(), 'sluice-profiles-'));
const boot = await startSluice(dataDir);
await boot.stop();
const tokens = seedDevices(join(dataDir, 'sluice.db'), 1000);
const server = await startProcess(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profiles, join(root, 'bin', 'sluice.js'), 'server', '--data-dir', dataDir, '--port', '0', '--quiet'], /listening on (http:\/\/[\d.:]+)/);
const result = await autocannon({ url: `${server.match[1]}/api/v1/device/checkin`, method: 'POST', connections: 50, duration: 5, body: JSON.stringify({ version: '1.0.0', nonce: 'ab'.repeat(16) }), headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[1]}` } });
await server.stop();
const profile = JSON.parse(readFileSync(join(profiles, readdirSync(profiles).find((name) => name.endsWith('.cpuprofile'))!), 'utf8'));
const nodes = new Map<number, { callFrame: { functionName: string; url: string; lineNumber: number } }>(profile.nodes.map((node: { id: number }) => [node.id, node]));
const self = new Map<string, number>();
profile.samples.forEach((id: number, index: number) => {
  const frame = nodes.get(id)!.callFrame;
  const key = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber}`;
  self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[index] ?? 0));
});
const total = [...self.values()].reduce((sum, value) => sum + value, 0);
console.log(`${result.requests.average} check-ins/s; top self time:`);
for (const [key, time] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${((time / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
rmSync(dataDir, { recursive: true, force: true });
rmSync(profiles, { recursive: true, force: true });
