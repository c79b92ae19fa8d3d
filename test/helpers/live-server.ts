// A real `sluice server` process driven over HTTP on 127.0.0.1, for the tests where the process
// itself matters (crash consistency, load): killed with SIGKILL at a chosen moment, restarted
// on the same data directory, its files and database inspected while it is down.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { request, type Dispatcher } from 'undici';
import { startServerProcess } from './processes.js';
import { multipartBody, signedManifest } from './server.js';
import { loadPrivateKeyFile } from '../../signing/keys.js';
import { openStore } from '../../server/storage/open.js';
import type { OpenStore } from '../../server/storage/store.js';
import { createPostgresTestDatabase, testDialect } from './database.js';

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
 * with `--database` naming the data directory's database (liveDatabaseUrl).
 */
export async function startLiveServer(
  t: Teardown,
  dataDir: string,
  options: { extra?: string[]; nodeArguments?: string[]; script?: string } = {},
) {
  const database = await liveDatabase(t, dataDir);
  const extra = [...(database ? ['--database', database.url] : []), ...(options.extra ?? [])];
  const server = await startServerProcess(dataDir, extra, options.nodeArguments, options.script);
  const exited = new Promise<void>((resolve) => server.process.once('exit', () => resolve()));
  const alive = () => server.process.exitCode === null && server.process.signalCode === null;
  // Even a test process that dies of an uncaught error takes its server with it.
  const orphanGuard = () => {
    if (alive()) server.process.kill('SIGKILL');
  };
  process.once('exit', orphanGuard);
  void exited.then(() => process.off('exit', orphanGuard));
  const killNow = async () => {
    if (alive()) {
      server.process.kill('SIGKILL');
      await exited;
    }
  };
  database?.servers.add(killNow);
  void exited.then(() => database?.servers.delete(killNow));
  t.teardown(killNow);
  return {
    url: server.url,
    pid: server.process.pid!,
    process: server.process,
    alive,
    /** The crash: no shutdown hook runs, nothing is flushed by the process. */
    kill: async () => {
      if (alive()) server.process.kill('SIGKILL');
      await exited;
    },
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
  const devices: { id: string; token: string }[] = [];
  for (let index = 0; index < deviceCount; index += 1) {
    const id = `emu-${String(index).padStart(4, '0')}`;
    devices.push({
      id,
      token: (
        await api.must('POST', '/api/v1/devices', admin, { id, customer: 'acme', product: 'emu', hardware: 'emu-hw-1', version: '1.0.0' })
      ).token,
    });
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

/**
 * What a stopped server left on disk: the database's own verdict on itself, the release rows,
 * the stored artifacts (by digest, with the digest of their bytes) and any temporary files.
 */
export function inspectDataDir(dataDir: string) {
  return withStoppedDatabase(dataDir, (db) => {
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((row) => row.integrity_check);
    const foreignKeyViolations = (db.pragma('foreign_key_check') as unknown[]).length;
    const releases = db.prepare('SELECT id, version, sha256, size FROM releases ORDER BY version').all() as {
      id: string;
      version: string;
      sha256: string;
      size: number;
    }[];
    const artifacts = filesUnder(join(dataDir, 'artifacts')).map((path) => {
      const bytes = readFileSync(join(dataDir, 'artifacts', path));
      return { name: path.split('/').pop()!, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    });
    return { integrity, foreignKeyViolations, releases, artifacts, temporary: filesUnder(join(dataDir, 'tmp')) };
  });
}

/** Reads a query from the stopped server's database. */
export function queryStopped<Row>(dataDir: string, sql: string, ...values: unknown[]): Row[] {
  return withStoppedDatabase(dataDir, (db) => db.prepare(sql).all(...values) as Row[]);
}

// Read-only, so that the inspection cannot repair what the crash left: what it sees is what
// the next server start will find (SQLite reads the committed WAL frames either way).
// SQLite's own checks (integrity_check, foreign_key_check): the crash suites that use them
// run on SQLite; on PostgreSQL a test reads through openLiveStore.
function withStoppedDatabase<T>(dataDir: string, use: (db: Database.Database) => T): T {
  if (testDialect !== 'sqlite') throw new Error('inspectDataDir and queryStopped read a SQLite file: on PostgreSQL use openLiveStore');
  const db = new Database(join(dataDir, 'sluice.db'), { readonly: true, fileMustExist: true });
  try {
    return use(db);
  } finally {
    db.close();
  }
}
