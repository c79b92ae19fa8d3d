// The PostgreSQL rows of `npm run bench` (issue 14, "Benchmarks"), each against SQLite measured
// in the same run, alternating (SQLite, PostgreSQL, SQLite, …) so that the machine's load
// swings hit both alike, and the medians compared.
// BENCH_ROUNDS (default 3): alternating check-in runs; BENCH_FLEET_ROUNDS (default 3): fleet
// runs; BENCH_FLEET_POSTGRES (default 1000): the fleet's devices; BENCH_POSTGRES_PROCESSES
// (default 3): server processes on the one PostgreSQL database.
import { checkinRate } from './checkin.js';
import { fleetRun } from './fleet.js';
import { statementTotals, type ServerCounts } from './metrics.js';

export interface Row {
  measurement: string;
  value: string;
  baseline: string;
  ratio: number;
  target: string;
}
type Record = (row: Row) => void;
type Log = (line: string) => void;

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const fleetRounds = Number(process.env.BENCH_FLEET_ROUNDS ?? 3);
const fleetDevices = Number(process.env.BENCH_FLEET_POSTGRES ?? 1000);
const serverProcesses = Number(process.env.BENCH_POSTGRES_PROCESSES ?? 3);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ratio = (value: number, baseline: number) => Math.round((value / baseline) * 100) / 100;
const fixed = (value: number, digits = 2) => value.toFixed(digits);

type CheckinRun = Awaited<ReturnType<typeof checkinRate>>;

/** What one check-in cost the database, from the server's own counts (and PostgreSQL's). */
export function costPerCheckin(run: CheckinRun) {
  const counts = run.load.server;
  if (!counts || counts.checkins === 0) return null;
  const checkins = counts.checkins;
  const statements = statementTotals(counts);
  const transactions = counts.statements.transaction.count;
  const database = run.load.postgres;
  return {
    statements: statements.count / checkins,
    get: counts.statements.get.count / checkins,
    all: counts.statements.all.count / checkins,
    run: counts.statements.run.count / checkins,
    transactions: transactions / checkins,
    // On PostgreSQL each statement is a round trip, and each transaction adds BEGIN and COMMIT.
    roundTrips: (statements.count + 2 * transactions) / checkins,
    // From the statement's call to its result, as the server saw it (on PostgreSQL this
    // includes the wait for a free pooled connection and the network).
    statementMicroseconds: (statements.seconds / checkins) * 1e6,
    serverCpuMicroseconds: (run.serverCpuSeconds / run.total) * 1e6,
    postgres: database && {
      commits: database.activity.commits / checkins,
      rowsWritten: (database.activity.rowsInserted + database.activity.rowsUpdated + database.activity.rowsDeleted) / checkins,
      rowsRead: (database.activity.rowsFetched + database.activity.rowsReturned) / checkins,
      activeMicroseconds: (database.activity.activeMilliseconds * 1000) / checkins,
      backendCpuMicroseconds: (database.backendCpuSeconds * 1e6) / checkins,
    },
  };
}

type Cost = NonNullable<ReturnType<typeof costPerCheckin>>;
const medianOf = <T>(items: T[], pick: (item: T) => number) => median(items.map(pick));

export async function postgresCheckinRows(record: Record, log: Log, seconds: number) {
  const sqliteRuns: CheckinRun[] = [];
  const postgresRuns: CheckinRun[] = [];
  for (let round = 0; round < rounds; round++) {
    log(`check-ins, SQLite then PostgreSQL, round ${round + 1} of ${rounds}`);
    sqliteRuns.push(await checkinRate(1000, seconds));
    postgresRuns.push(await checkinRate(1000, seconds, { database: 'postgres' }));
    const [sqlite, postgres] = [sqliteRuns[round], postgresRuns[round]];
    log(
      `  SQLite ${fixed(sqlite.perSecond, 0)}/s, PostgreSQL ${fixed(postgres.perSecond, 0)}/s; start-up statements ${sqlite.startupStatements} / ${postgres.startupStatements}`,
    );
  }
  const sqliteRate = medianOf(sqliteRuns, (run) => run.perSecond);
  const postgresRate = medianOf(postgresRuns, (run) => run.perSecond);
  const errors = postgresRuns.reduce((sum, run) => sum + run.errors, 0);
  record({
    measurement: `check-ins/s on PostgreSQL vs SQLite, one process each, 1,000 devices, 50 connections (median of ${rounds} alternating)`,
    value: `${fixed(postgresRate, 0)}/s (p99 ${medianOf(postgresRuns, (run) => run.latencyP99)} ms, ${errors} errors)`,
    baseline: `SQLite ${fixed(sqliteRate, 0)}/s`,
    ratio: ratio(postgresRate, sqliteRate),
    target: '≥ 0.7',
  });
  const postgresCosts = postgresRuns.map(costPerCheckin).filter((cost): cost is Cost => cost !== null);
  const sqliteCosts = sqliteRuns.map(costPerCheckin).filter((cost): cost is Cost => cost !== null);
  if (postgresCosts.length === 0 || sqliteCosts.length === 0) {
    log('the server has no /metrics: statements per check-in not measured');
    return;
  }
  const cost = (costs: Cost[], pick: (cost: Cost) => number) => medianOf(costs, pick);
  const roundTrips = cost(postgresCosts, (each) => each.roundTrips);
  record({
    measurement:
      'database round trips per steady-state check-in, PostgreSQL (statements the server ran, + BEGIN and COMMIT of each transaction; median)',
    value: `${fixed(roundTrips)} (get ${fixed(cost(postgresCosts, (each) => each.get))}, all ${fixed(cost(postgresCosts, (each) => each.all))}, run ${fixed(
      cost(postgresCosts, (each) => each.run),
      4,
    )}, transactions ${fixed(
      cost(postgresCosts, (each) => each.transactions),
      4,
    )})`,
    baseline: `SQLite: ${fixed(cost(sqliteCosts, (each) => each.statements))} statements, ${fixed(
      cost(sqliteCosts, (each) => each.transactions),
      4,
    )} transactions`,
    ratio: Math.round(roundTrips * 100) / 100,
    target: '≤ 2 round trips',
  });
  const database = postgresCosts.map((each) => each.postgres).filter((each): each is NonNullable<Cost['postgres']> => each !== null);
  if (database.length > 0) {
    const backendCpu = medianOf(database, (each) => each.backendCpuMicroseconds);
    const serverCpu = cost(postgresCosts, (each) => each.serverCpuMicroseconds);
    record({
      measurement: "database cost per check-in, PostgreSQL (pg_stat_database and the backends' CPU; median)",
      value: `${fixed(
        medianOf(database, (each) => each.activeMicroseconds),
        0,
      )} µs executing, ${fixed(backendCpu, 0)} µs backend CPU, ${fixed(
        medianOf(database, (each) => each.commits),
        3,
      )} commits, ${fixed(
        medianOf(database, (each) => each.rowsWritten),
        3,
      )} rows written, ${fixed(
        medianOf(database, (each) => each.rowsRead),
        1,
      )} rows read`,
      baseline: `server CPU ${fixed(serverCpu, 0)} µs per check-in (SQLite ${fixed(
        cost(sqliteCosts, (each) => each.serverCpuMicroseconds),
        0,
      )} µs); statement time seen by the server ${fixed(
        cost(postgresCosts, (each) => each.statementMicroseconds),
        0,
      )} µs (SQLite ${fixed(
        cost(sqliteCosts, (each) => each.statementMicroseconds),
        0,
      )} µs)`,
      ratio: ratio(backendCpu, serverCpu),
      target: '— (database CPU / server CPU)',
    });
  }
}

type FleetRun = Awaited<ReturnType<typeof fleetRun>>;

/**
 * What one device's whole update cost the database in a fleet run: its registration, its
 * check-ins, its download and its eight reports, from the servers' counts and PostgreSQL's.
 */
function fleetCost(run: FleetRun, devices: number) {
  const counts: ServerCounts | null = run.counted;
  if (!counts) return null;
  const statements = statementTotals(counts);
  const transactions = counts.statements.transaction.count;
  const activity = run.database?.activity;
  return {
    checkins: counts.checkins,
    events: counts.events,
    roundTrips: (statements.count + 2 * transactions) / devices,
    transactions: transactions / devices,
    backendCpuMilliseconds: run.database ? (run.database.backendCpuSeconds * 1000) / devices : null,
    rowsWritten: activity ? (activity.rowsInserted + activity.rowsUpdated + activity.rowsDeleted) / devices : null,
  };
}

export async function postgresFleetRows(record: Record, log: Log) {
  const sqliteRuns: FleetRun[] = [];
  const postgresRuns: FleetRun[] = [];
  for (let round = 0; round < fleetRounds; round++) {
    log(
      `fleet of ${fleetDevices}, one SQLite process then ${serverProcesses} processes on PostgreSQL, round ${round + 1} of ${fleetRounds}`,
    );
    // As many simulations against the one SQLite process as against the PostgreSQL ones, so
    // that the devices' side is the same and only the servers differ.
    sqliteRuns.push(await fleetRun(fleetDevices, { simulations: serverProcesses }));
    postgresRuns.push(await fleetRun(fleetDevices, { database: 'postgres', processes: serverProcesses }));
    for (const run of [sqliteRuns[round], postgresRuns[round]]) {
      log(
        `  ${run.database ? 'PostgreSQL' : 'SQLite'}: ${run.committed}/${fleetDevices} committed in ${fixed(run.seconds, 1)} s, ${run.events}/${run.expectedEvents} reports, ${run.duplicates} duplicates, plan ${run.status} (${run.completions} completion), server CPU ${fixed(run.serverCpuSeconds, 1)} s, simulators' CPU ${fixed(run.simulatorCpuSeconds, 1)} s`,
      );
    }
  }
  const summary = (runs: FleetRun[]) => {
    const worst = Math.min(...runs.map((run) => run.committed));
    const lost = runs.reduce((sum, run) => sum + Math.max(0, run.expectedEvents - run.events), 0);
    const duplicates = runs.reduce((sum, run) => sum + run.duplicates, 0);
    const completedOnce = runs.every((run) => run.status === 'completed' && run.completions === 1);
    return {
      worst,
      lost,
      duplicates,
      completedOnce,
      seconds: medianOf(runs, (run) => run.seconds),
      cpu: medianOf(runs, (run) => run.serverCpuSeconds),
      simulatorCpu: medianOf(runs, (run) => run.simulatorCpuSeconds),
    };
  };
  const [sqlite, postgres] = [summary(sqliteRuns), summary(postgresRuns)];
  const describe = (result: ReturnType<typeof summary>) =>
    `${result.worst}/${fleetDevices} committed in every run, median ${fixed(result.seconds, 0)} s, ${result.lost} reports missing, ${result.duplicates} stored twice, ${result.completedOnce ? 'completed once each run' : 'NOT completed once in every run'}, server CPU ${fixed(result.cpu, 0)} s (simulators ${fixed(result.simulatorCpu, 0)} s)`;
  record({
    measurement: `fleet: ${fleetDevices} devices through one window, ${serverProcesses} processes on PostgreSQL vs one SQLite process, ${serverProcesses} simulations each (median of ${fleetRounds} alternating)`,
    value: describe(postgres),
    baseline: `SQLite: ${describe(sqlite)}`,
    ratio: ratio(sqlite.seconds, postgres.seconds),
    target: 'all committed, none lost (ratio: SQLite time / PostgreSQL time)',
  });
  const costs = postgresRuns
    .map((run) => fleetCost(run, fleetDevices))
    .filter((cost): cost is NonNullable<ReturnType<typeof fleetCost>> => cost !== null);
  if (costs.length > 0) {
    const present = (values: (number | null)[]) => values.filter((value): value is number => value !== null);
    const value = (values: number[], digits: number) => (values.length ? fixed(median(values), digits) : '?');
    const roundTrips = medianOf(costs, (cost) => cost.roundTrips);
    record({
      measurement: 'fleet database cost, PostgreSQL, per device updated (registration, check-ins, download, 8 reports; median)',
      value: `${fixed(roundTrips, 1)} round trips, ${value(present(costs.map((cost) => cost.backendCpuMilliseconds)), 1)} ms backend CPU, ${fixed(
        medianOf(costs, (cost) => cost.transactions),
        1,
      )} transactions, ${value(present(costs.map((cost) => cost.rowsWritten)), 1)} rows written`,
      baseline: `${fixed(
        medianOf(costs, (cost) => cost.checkins),
        0,
      )} check-ins and ${fixed(
        medianOf(costs, (cost) => cost.events),
        0,
      )} events per run`,
      ratio: Math.round(roundTrips * 10) / 10,
      target: '— (round trips per device)',
    });
  }
}
