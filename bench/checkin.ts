// Device check-ins per second (signed answer, a database read and write) from 50 connections,
// against a bare fastify route that returns a constant JSON answer of the same size; on
// SQLite or on a fresh PostgreSQL database, with what each check-in cost the database.
import autocannon from 'autocannon';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startProcess, startSluice, cpuSeconds } from './processes.js';
import { seedDevices } from './seed.js';
import { openStore } from '../server/storage/open.js';
import { scrapeServer, countsBetween, type ServerCounts } from './metrics.js';
import { createBenchDatabase, activityBetween, sampleBackendCpu } from './postgres.js';
import type { DatabaseActivity } from '../server/storage/postgres/admin.js';

const body = JSON.stringify({ version: '1.0.0', nonce: 'ab'.repeat(16) });

/**
 * 50 connections for `seconds`. With tokens, each request is a different device, round the
 * whole fleet: a real fleet's devices each check in once per poll interval, so one device's
 * token, row and plans are never hot, and a benchmark that repeats one device would measure
 * caches that a fleet never hits.
 */
export async function loadCheckins(url: string, tokens: string[], seconds: number) {
  let next = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections: 50,
    duration: seconds,
    body,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => {
          const token = tokens[next++ % tokens.length];
          return { ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } };
        },
      },
    ],
  });
  return {
    perSecond: result.requests.average,
    total: result.requests.total,
    errors: result.errors + result.non2xx,
    latencyP99: result.latency.p99,
  };
}

/** What the load cost the database: the server's own statement counts and, on PostgreSQL, the database's. */
export interface DatabaseLoad {
  /** Between the scrapes before and after the load; null when the server has no /metrics. */
  server: ServerCounts | null;
  /** PostgreSQL only: pg_stat_database over the server's life after seeding, and its backends' CPU. */
  postgres: { activity: DatabaseActivity; backendCpuSeconds: number } | null;
}

export async function checkinRate(devices: number, seconds: number, options: { database?: 'sqlite' | 'postgres' } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const postgres = options.database === 'postgres' ? await createBenchDatabase() : null;
  const extra = postgres ? ['--database', postgres.url] : [];
  try {
    // Create the schema and the development keys first, then the fleet.
    const bootstrap = await startSluice(dataDir, extra);
    await bootstrap.stop();
    const tokens = await seedDevices(dataDir, devices, postgres?.url);
    // Everything before this (migrations, the seed) has reported: their connections closed.
    const activityBefore = await postgres?.settledActivity();
    const server = await startSluice(dataDir, extra);
    const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const sample = await request(`${server.url}/api/v1/device/checkin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[0]}` },
      body,
    });
    const answer = await sample.body.text();
    const countsBefore = await scrapeServer(server.url, admin);
    const backends = postgres && sampleBackendCpu(postgres);
    await backends?.started;
    const cpuBefore = cpuSeconds(server.child.pid!);
    const measured = await loadCheckins(`${server.url}/api/v1/device/checkin`, tokens, seconds);
    const cpu = cpuSeconds(server.child.pid!) - cpuBefore;
    const countsAfter = await scrapeServer(server.url, admin);
    const backendCpuSeconds = await backends?.stop();
    await server.stop();
    const load: DatabaseLoad = {
      server: countsBefore && countsAfter ? countsBetween(countsBefore, countsAfter) : null,
      // The server's start-up and its one sample check-in are in here too: a few dozen
      // statements against tens of thousands (the first scrape says how many).
      postgres:
        postgres && activityBefore && backendCpuSeconds !== undefined
          ? { activity: activityBetween(activityBefore, await postgres.settledActivity()), backendCpuSeconds }
          : null,
    };
    const store = await openStore({ dataDir, url: postgres?.url });
    const written = (await store.devices.list({ customer: 'bench' })).filter((device) => device.lastSeenAt !== null).length;
    await store.close();
    return {
      ...measured,
      answerBytes: answer.length,
      answer,
      cpuPerRequestMs: (cpu * 1000) / measured.total,
      serverCpuSeconds: cpu,
      devicesWritten: written,
      startupStatements: countsBefore
        ? countsBefore.statements.get.count + countsBefore.statements.all.count + countsBefore.statements.run.count
        : null,
      load,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    await postgres?.drop();
  }
}

export async function bareFastifyRate(answer: string, seconds: number) {
  const script = `import Fastify from 'fastify'; const app = Fastify(); const body = ${JSON.stringify(answer)};
app.post('/checkin', async (request, reply) => reply.type('application/json').send(body));
const address = await app.listen({ port: 0, host: '127.0.0.1' }); console.log('listening on ' + address);`;
  const baseline = await startProcess(process.execPath, ['--input-type=module', '-e', script], /listening on (http:\/\/[\d.:]+)/);
  try {
    // The same request bytes as the check-ins, a token included, so the load generator
    // does the same work against both.
    return await loadCheckins(`${baseline.match[1]}/checkin`, ['d_bench_0_bench-000000'], seconds);
  } finally {
    await baseline.stop();
  }
}
