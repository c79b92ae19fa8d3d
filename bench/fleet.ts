// `sluice simulate --devices N` through one window: every device must commit and every report
// arrive; the servers' CPU time and peak memory are reported. On SQLite one server process;
// on a fresh PostgreSQL database, `processes` servers on it and one data directory, the
// devices spread over them by one `sluice simulate` each (as test/multiprocess/ does).
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSluice, startProcess, cpuSeconds, sluiceScript } from './processes.js';
import { peakRssMiB } from './process-status.js';
import { openStore } from '../server/storage/open.js';
import { confirmedRollout } from './rollout.js';
import { scrapeServer, countsBetween, sumCounts, type ServerCounts } from './metrics.js';
import { createBenchDatabase, activityBetween, sampleBackendCpu } from './postgres.js';
import type { DatabaseActivity } from '../server/storage/postgres/admin.js';

/** How long the simulation may run before it reports what it reached (BENCH_FLEET_SECONDS). */
const fleetSeconds = Number(process.env.BENCH_FLEET_SECONDS ?? 900);

export interface FleetOptions {
  database?: 'sqlite' | 'postgres';
  /** Server processes on the one database (PostgreSQL only; SQLite runs one). */
  processes?: number;
  /** `sluice simulate` processes sharing the devices, spread over the servers (default: one per server). */
  simulations?: number;
}

export async function fleetRun(devices: number, options: FleetOptions = {}) {
  const work = mkdtempSync(join(tmpdir(), 'sluice-bench-fleet-'));
  const postgres = options.database === 'postgres' ? await createBenchDatabase() : null;
  const processes = postgres ? (options.processes ?? 1) : 1;
  const simulationCount = options.simulations ?? processes;
  try {
    const dataDir = join(work, 'data');
    const serverArguments = ['--poll-seconds', '5', ...(postgres ? ['--database', postgres.url] : [])];
    // The first start migrates and makes the keys and the admin token; the others find them.
    const servers = [await startSluice(dataDir, serverArguments)];
    servers.push(...(await Promise.all(Array.from({ length: processes - 1 }, () => startSluice(dataDir, serverArguments)))));
    const [server] = servers;
    const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const { planId, support } = await confirmedRollout({ url: server.url, dataDir, work, admin, customer: 'sim' });
    // A backend reports its counts within 10 s of going idle: after this wait, the set-up
    // above (migrations, bootstrap, publishing, the plan) is all in the first reading.
    if (postgres) await sleep(11_000);
    const countsBefore = await Promise.all(servers.map((each) => scrapeServer(each.url, admin)));
    const activityBefore = await postgres?.activity();
    const backends = postgres && sampleBackendCpu(postgres);
    await backends?.started;
    const cpuBefore = servers.map((each) => cpuSeconds(each.child.pid!));
    const started = Date.now();
    // The devices split as evenly as they go over the simulations, and these over the servers.
    const simulatorCpu: number[] = [];
    const simulations = Array.from({ length: simulationCount }, async (_, index) => {
      const share = Math.floor(devices / simulationCount) + (index < devices % simulationCount ? 1 : 0);
      const directory = join(work, `sim-${index}`);
      mkdirSync(directory, { recursive: true });
      const simulation = await startProcess(
        process.execPath,
        [
          sluiceScript,
          'simulate',
          '--server',
          servers[index % processes].url,
          '--token',
          support,
          '--devices',
          String(share),
          '--customer',
          'sim',
          '--prefix',
          `sim-${index}-`,
          '--data-dir',
          directory,
          '--until-version',
          '2.0.0',
          '--duration',
          String(fleetSeconds),
        ],
        /final: (\{.*\})/,
        { timeoutMs: (fleetSeconds + 60) * 1000 },
      );
      const finished = Date.now();
      simulatorCpu.push(cpuSeconds(simulation.child.pid!));
      await simulation.stop();
      return finished;
    });
    const seconds = (Math.max(...(await Promise.all(simulations))) - started) / 1000;
    const backendCpuSeconds = await backends?.stop();
    const serverCpuSeconds = servers.reduce((sum, each, index) => sum + cpuSeconds(each.child.pid!) - cpuBefore[index], 0);
    const serverPeakRssMiB = Math.max(...servers.map((each) => peakRssMiB(each.child.pid!)));
    const countsAfter = await Promise.all(servers.map((each) => scrapeServer(each.url, admin)));
    const counted =
      countsBefore.every(Boolean) && countsAfter.every(Boolean)
        ? sumCounts(countsAfter.map((after, index) => countsBetween(countsBefore[index]!, after!)))
        : null;
    const store = await openStore({ dataDir, url: postgres?.url });
    let outcome;
    try {
      // The last report's transaction completes the plan; it has committed before its 204.
      let status = (await store.plans.get(planId))?.status;
      for (let attempt = 0; attempt < 50 && status !== 'completed'; attempt++) {
        await sleep(100);
        status = (await store.plans.get(planId))?.status;
      }
      await Promise.all(servers.map((each) => each.stop()));
      const planEvents = await store.devices.eventCounts(planId);
      outcome = {
        committed: (await store.devices.list({ customer: 'sim' })).filter((device) => device.version === '2.0.0').length,
        events: await store.devices.eventCount(),
        duplicates: planEvents.duplicates,
        status,
        completions: await store.audit.count({ subject: `plan:${planId}`, action: 'plan.complete' }),
      };
    } finally {
      await store.close();
    }
    const database: { activity: DatabaseActivity; backendCpuSeconds: number } | null =
      postgres && activityBefore && backendCpuSeconds !== undefined
        ? { activity: activityBetween(activityBefore, await postgres.settledActivity()), backendCpuSeconds }
        : null;
    return {
      processes,
      simulations: simulationCount,
      ...outcome,
      expectedEvents: devices * 8,
      seconds,
      serverCpuSeconds,
      simulatorCpuSeconds: simulatorCpu.reduce((sum, cpu) => sum + cpu, 0),
      serverPeakRssMiB,
      counted: counted as ServerCounts | null,
      database,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
    await postgres?.drop();
  }
}
