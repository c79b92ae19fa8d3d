// How long one device report keeps its transaction open, by plan size: a report of a finished
// state (committed, failed, rolled back) locks the plan's row first and counts the plan's
// devices by wave and state under that lock, to judge the wave and the completion once
// (services/device-events.ts); a report of any other state takes no plan lock. Every finished
// report of one plan waits for the one before it, in whichever process, so the lock's hold
// time bounds how many devices of one plan can finish per second, however many processes run.
// Not a row of `npm run bench`: `node --import tsx bench/finished-reports.ts`;
// PLAN_SIZES (default 1000,10000,100000), REPORTS (default 200), BENCH_DATABASE=postgres|sqlite.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { buildSluice, startSluice } from './processes.js';
import { seedDevices } from './seed.js';
import { confirmedRollout } from './rollout.js';
import { scrapeServer, countsBetween, statementTotals } from './metrics.js';
import { createBenchDatabase } from './postgres.js';

const sizes = (process.env.PLAN_SIZES ?? '1000,10000,100000').split(',').map(Number);
const reports = Number(process.env.REPORTS ?? 200);
const dialect = process.env.BENCH_DATABASE === 'sqlite' ? 'sqlite' : 'postgres';

await buildSluice();
for (const size of sizes) {
  const work = mkdtempSync(join(tmpdir(), 'sluice-bench-reports-'));
  const postgres = dialect === 'postgres' ? await createBenchDatabase() : null;
  try {
    const dataDir = join(work, 'data');
    const extra = postgres ? ['--database', postgres.url] : [];
    const bootstrap = await startSluice(dataDir, extra);
    await bootstrap.stop();
    const tokens = await seedDevices(dataDir, size, postgres?.url);
    const server = await startSluice(dataDir, extra);
    const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    // The plan takes in every device of the customer: the seeded fleet.
    const { planId } = await confirmedRollout({ url: server.url, dataDir, work, admin, customer: 'bench' });
    const line: string[] = [];
    for (const state of ['downloading', 'committed']) {
      const before = (await scrapeServer(server.url, admin))!;
      const started = performance.now();
      // One at a time: the hold time of each, without waiting for another.
      for (let index = 0; index < reports; index++) {
        const response = await request(`${server.url}/api/v1/device/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens[index]}`, 'content-type': 'application/json' },
          body: JSON.stringify({ assignment: planId, state, eventId: `${state}-${index}-bench` }),
        });
        await response.body.dump();
        if (response.statusCode !== 204) throw new Error(`a ${state} report answered ${response.statusCode}`);
      }
      const milliseconds = (performance.now() - started) / reports;
      const counts = countsBetween(before, (await scrapeServer(server.url, admin))!);
      const transaction = counts.statements.transaction;
      line.push(
        `${state}: ${((transaction.seconds / transaction.count) * 1000).toFixed(2)} ms per transaction, ${(statementTotals(counts).count / reports).toFixed(1)} statements, ${milliseconds.toFixed(2)} ms per report over HTTP`,
      );
    }
    console.log(`${dialect}, plan of ${size} devices: ${line.join('; ')}`);
    await server.stop();
  } finally {
    rmSync(work, { recursive: true, force: true });
    await postgres?.drop();
  }
}
process.exit(0);
