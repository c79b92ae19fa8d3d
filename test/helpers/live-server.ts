// A real `sluice server` process driven over HTTP on 127.0.0.1, for the tests where the process
// itself matters (crash consistency, load): killed with SIGKILL at a chosen moment, restarted
// on the same data directory, its files and database inspected while it is down.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import type { ChildProcess } from 'node:child_process';
import { request, type Dispatcher } from 'undici';
import { startServerProcess } from './processes.js';
import { multipartBody, signedManifest } from './server.js';
import { loadPrivateKeyFile } from '../../signing/keys.js';
import { openStore } from '../../server/storage/open.js';
import type { OpenStore, Store } from '../../server/storage/store.js';
import type { AuditRecord } from '../../server/storage/repositories/records.js';
import { createPostgresTestDatabase, testDialect, waitForNoOtherSessions } from './database.js';

interface Teardown {
  teardown: (fn: () => unknown) => void;
}

export type LiveServer = Awaited<ReturnType<typeof startLiveServer>>;

// With SLUICE_TEST_DATABASE=postgres each data directory gets a PostgreSQL database of its
// own, made at its first server's start and kept for every restart on that directory (a
// crash test restarts on the same data), dropped at the teardown of the test that made it.
const liveDatabases = new Map<string, { url: string; servers: Set<() => Promise<void>> }>();

/** The `--database` URL of the servers on `dataDir`; undefined on SQLite (DIR/sluice.db). */
export async function liveDatabaseUrl(t: Teardown, dataDir: string): Promise<string | undefined> {
  return (await liveDatabase(t, dataDir))?.url;
}

async function liveDatabase(t: Teardown, dataDir: string) {
  if (testDialect === 'sqlite') return undefined;
  const key = resolve(dataDir);
  let entry = liveDatabases.get(key);
  if (!entry) {
    const database = await createPostgresTestDatabase();
    const created = { url: database.url, servers: new Set<() => Promise<void>>() };
    liveDatabases.set(key, created);
    // The servers go first, so that none sees its database vanish under it.
    t.teardown(async () => {
      liveDatabases.delete(key);
      await Promise.all([...created.servers].map((kill) => kill()));
      void database.drop();
    });
    entry = created;
  }
  return entry;
}

/**
 * The store the servers on `dataDir` use, opened by the test itself (on SQLite, beside a
 * running server: WAL lets both in), closed at teardown. Where a test needs to read what the
 * servers stored on either dialect, it reads it through this, not through SQL.
 */
export async function openLiveStore(t: Teardown, dataDir: string): Promise<OpenStore> {
  const store = await openStore({ dataDir, url: await liveDatabaseUrl(t, dataDir) });
  t.teardown(() => store.close());
  return store;
}

/**
 * Starts the server; teardown kills it if the test did not stop it. On PostgreSQL it runs
 * with `--database` naming the data directory's database (liveDatabaseUrl), unless the
 * test passes a `--database` of its own.
 */
export async function startLiveServer(
  t: Teardown,
  dataDir: string,
  options: { extra?: string[]; nodeArguments?: string[]; script?: string } = {},
) {
  // A test that names the database itself (`--database` in extra) makes and drops it: none here.
  const database = options.extra?.includes('--database') ? undefined : await liveDatabase(t, dataDir);
  const extra = [...(database ? ['--database', database.url] : []), ...(options.extra ?? [])];
  const starting = startServerProcess(dataDir, extra, options.nodeArguments, options.script);
  const killed = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exit = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exit;
  };
  // Registered before the start settles: a test that ends while this server is still
  // starting (a sibling start failed, say) takes it down too, before its database is
  // dropped, rather than leave it to come up and retry a dropped database.
  const killNow = async () => {
    const started = await starting.catch(() => undefined);
    if (started) await killed(started.process);
  };
  database?.servers.add(killNow);
  t.teardown(killNow);
  const server = await starting;
  const exited = new Promise<void>((resolve) => server.process.once('exit', () => resolve()));
  const alive = () => server.process.exitCode === null && server.process.signalCode === null;
  // Even a test process that dies of an uncaught error takes its server with it.
  const orphanGuard = () => {
    if (alive()) server.process.kill('SIGKILL');
  };
  process.once('exit', orphanGuard);
  void exited.then(() => process.off('exit', orphanGuard));
  void exited.then(() => database?.servers.delete(killNow));
  return {
    url: server.url,
    pid: server.process.pid!,
    process: server.process,
    alive,
    /** The crash: no shutdown hook runs, nothing is flushed by the process. */
    kill: () => killed(server.process),
    /** A clean shutdown (SIGTERM), which may not hang the test: SIGKILL after 10 s. */
    stop: async () => {
      const timer = setTimeout(() => server.process.kill('SIGKILL'), 10_000);
      await server.stop();
      clearTimeout(timer);
    },
  };
}

export interface ApiResponse {
  status: number;
  json: any;
  bytes: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

export function apiClient(url: string, dispatcher?: Dispatcher) {
  const call = async (
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> => {
    const response = await request(`${url}${path}`, {
      method: method as 'GET',
      dispatcher,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      // A Buffer is sent as it is (with its own content-type header); anything else as JSON.
      body: body === undefined || Buffer.isBuffer(body) ? (body as Buffer | undefined) : JSON.stringify(body),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const bytes = Buffer.from(await response.body.arrayBuffer());
    let json: any = null;
    try {
      json = JSON.parse(bytes.toString());
    } catch {
      /* not JSON */
    }
    return { status: response.statusCode, json, bytes, headers: response.headers };
  };
  const must = async (method: string, path: string, token: string | null, body?: unknown) => {
    const response = await call(method, path, token, body);
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.bytes.toString()}`);
    return response.json;
  };
  return { url, call, must };
}

export type ApiClient = ReturnType<typeof apiClient>;

export const adminTokenOf = (dataDir: string) => readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
export const releaseKeyOf = (dataDir: string) => loadPrivateKeyFile(join(dataDir, 'keys', 'release.key'));

/** Product `emu`, customer `acme`, a user per role and `deviceCount` devices; returns the tokens. */
export async function seedLiveFleet(api: ApiClient, dataDir: string, deviceCount: number) {
  const admin = adminTokenOf(dataDir);
  await api.must('POST', '/api/v1/products', admin, { id: 'emu', name: 'Energy management unit' });
  await api.must('POST', '/api/v1/customers', admin, { id: 'acme', name: 'Acme', timezone: 'Europe/Madrid' });
  const user = async (username: string, role: string, extra = {}) =>
    (await api.must('POST', '/api/v1/users', admin, { username, role, ...extra })).token as string;
  const tokens = {
    admin,
    release: await user('rita', 'release'),
    support: await user('sam', 'support'),
    customer: await user('carla', 'customer', { customer: 'acme' }),
  };
  const ids = Array.from({ length: deviceCount }, (_, index) => `emu-${String(index).padStart(4, '0')}`);
  const devices: { id: string; token: string }[] = [];
  // A few at a time: one by one, each waits for the database's round trips of the last.
  for (let start = 0; start < ids.length; start += 8) {
    const batch = ids.slice(start, start + 8);
    const created = await Promise.all(
      batch.map((id) =>
        api.must('POST', '/api/v1/devices', admin, { id, customer: 'acme', product: 'emu', hardware: 'emu-hw-1', version: '1.0.0' }),
      ),
    );
    devices.push(...batch.map((id, index) => ({ id, token: created[index].token as string })));
  }
  return { tokens, devices };
}

/** One upload of a signed release, as `sluice release publish` sends it. */
export function releaseUpload(dataDir: string, version: string, artifact: Buffer) {
  const manifest = signedManifest(artifact, { product: 'emu', version }, [releaseKeyOf(dataDir)]);
  return multipartBody([
    { name: 'manifest', filename: 'manifest.json', content: JSON.stringify(manifest) },
    { name: 'artifact', filename: 'image.bin', content: artifact },
  ]);
}

export async function publishLive(api: ApiClient, dataDir: string, token: string, version: string, artifact: Buffer): Promise<string> {
  const { payload, contentType } = releaseUpload(dataDir, version, artifact);
  const response = await api.call('POST', '/api/v1/releases', token, payload, { 'content-type': contentType });
  if (response.status !== 201) throw new Error(`publish ${version}: ${response.status} ${response.bytes.toString()}`);
  return response.json.id;
}

/** A plan for every acme device on `release`, proposed and confirmed with a nightly window. */
export async function confirmedLivePlan(api: ApiClient, tokens: { support: string; customer: string }, release: string): Promise<string> {
  const plan = await api.must('POST', '/api/v1/plans', tokens.support, { customer: 'acme', release, windows: [nightly] });
  await api.must('POST', `/api/v1/plans/${plan.id}/propose`, tokens.support);
  await api.must('POST', `/api/v1/plans/${plan.id}/confirm`, tokens.customer, {
    window: 0,
    maintainer: { name: 'Ana', phone: '+34 600 000 000' },
  });
  return plan.id;
}

export const nightly = { cron: '0 2 * * *', duration: 'PT3H', timezone: 'Europe/Madrid' };

function filesUnder(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(directory, join(entry.parentPath ?? entry.path, entry.name)));
}

/** The files of the data directory: the stored artifacts (by digest, with the digest of their bytes) and any temporary files. */
export function dataDirFiles(dataDir: string) {
  const artifacts = filesUnder(join(dataDir, 'artifacts')).map((path) => {
    const bytes = readFileSync(join(dataDir, 'artifacts', path));
    return { name: path.split('/').pop()!, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  });
  return { artifacts, temporary: filesUnder(join(dataDir, 'tmp')) };
}

/** What stoppedDatabaseProblems checks on this run's dialect, for the assertions' messages. */
export const soundnessCheck =
  testDialect === 'sqlite' ? 'PRAGMA integrity_check and foreign_key_check' : 'no session of the stopped server left on PostgreSQL';

/**
 * What is wrong with the database of `dataDir` once no server runs on it; [] when nothing is.
 * SQLite: the file's own checks, read-only, so that the inspection cannot repair what a crash
 * left (what it sees is what the next start finds). PostgreSQL keeps its files consistent
 * whatever a client does; what a killed client can leave is sessions, whose transactions
 * are still being decided: every one must end (waited for, at most 10 s).
 */
export async function stoppedDatabaseProblems(t: Teardown, dataDir: string): Promise<string[]> {
  const url = await liveDatabaseUrl(t, dataDir);
  if (url) {
    const sessions = await waitForNoOtherSessions(url);
    return sessions === 0 ? [] : [`${sessions} session(s) still connected 10 s after the server stopped`];
  }
  const db = new Database(join(dataDir, 'sluice.db'), { readonly: true, fileMustExist: true });
  try {
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((row) => row.integrity_check);
    const foreignKeys = db.pragma('foreign_key_check') as { table: string; parent: string }[];
    return [
      ...integrity.filter((line) => line !== 'ok').map((line) => `integrity_check: ${line}`),
      ...foreignKeys.map((row) => `foreign_key_check: a row of ${row.table} names a missing ${row.parent}`),
    ];
  } finally {
    db.close();
  }
}

/**
 * Reads what the servers of `dataDir` left, once none runs, through the store they use:
 * repositories, the same on both dialects. On PostgreSQL it first waits for the stopped
 * server's sessions to end, so that nothing of its work is still landing while it reads.
 */
export async function readStopped<T>(t: Teardown, dataDir: string, read: (store: Store) => Promise<T>): Promise<T> {
  const url = await liveDatabaseUrl(t, dataDir);
  if (url) await waitForNoOtherSessions(url);
  const store = await openStore({ dataDir, url });
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

/** What a stopped server left: its database's problems, its release rows, the artifact store and the temporary files. */
export async function inspectDataDir(t: Teardown, dataDir: string) {
  const problems = await stoppedDatabaseProblems(t, dataDir);
  const releases = (await readStopped(t, dataDir, (store) => store.releases.list()))
    .map(({ id, version, sha256, size }) => ({ id, version, sha256, size }))
    .sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  return { problems, releases, ...dataDirFiles(dataDir) };
}

/** Every audit row of `subject`, oldest first (the repository pages newest first, 1,000 at a time). */
export async function auditTrail(store: Store, subject: string): Promise<AuditRecord[]> {
  const rows: AuditRecord[] = [];
  for (;;) {
    const page = await store.audit.list({ subject, limit: 1000, before: rows.at(-1)?.id });
    rows.push(...page);
    if (page.length < 1000) return rows.reverse();
  }
}
