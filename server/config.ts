// The one configuration loader for the server. Options come from the CLI (or a test);
// defaults follow DESIGN.md: data under ./data, listening on 127.0.0.1:8080.
import { resolve, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { parseDatabaseUrl } from './storage/database-url.js';

export interface ServerOptions {
  dataDir: string;
  /**
   * `sqlite:PATH` or `postgres://user:pass@host:port/db?sslmode=…` (DESIGN.md, "One machine
   * first, many later"); absent: SQLite in DIR/sluice.db.
   */
  databaseUrl?: string;
  /** Path to a root.json to trust; absent: the current root stored in the database. */
  trustRootPath?: string;
  /** PKCS#8 PEM of the online key that signs check-in answers (root.json's server role). */
  serverKeyPath?: string;
  port: number;
  host: string;
  /** Largest artifact accepted by POST /releases, in bytes (413 above it). */
  maxArtifactBytes: number;
  /** Base URL devices use, when the server sits behind a proxy. */
  publicUrl?: string;
  /** How artifact bytes leave the server: streamed by Node, or handed to nginx. */
  artifactDelivery: { mode: 'stream' } | { mode: 'x-accel-redirect'; internalPrefix: string };
  /** Seconds devices wait between check-ins (DESIGN.md, pollAfterSeconds). */
  pollSeconds: number;
  /**
   * Worker threads that sign check-in answers (services/checkin-signer.ts); 0 signs on the
   * event loop. One by default when the machine has a core to spare.
   */
  signingThreads: number;
  /** Lifetime of a signed check-in answer: short, against freeze and replay. */
  checkinTtlSeconds: number;
  logger: boolean;
  /** The hawkBit DDI tenant name devices use in their URLs. */
  ddiTenant: string;
  /** Class of the fault opened when an agent ends an update failed or rolled back. */
  autoFaultClass: 'A' | 'B' | 'C' | 'D';
  /** Injected clock so tests control time (STYLE.md, "effects injected"). */
  now: () => Date;
}

export function resolveOptions(given: Partial<ServerOptions> = {}): Readonly<ServerOptions> {
  // An option passed as undefined (e.g. an absent CLI flag) keeps its default.
  const partial = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as Partial<ServerOptions>;
  const dataDir = resolve(partial.dataDir ?? 'data');
  if (partial.databaseUrl !== undefined) parseDatabaseUrl(partial.databaseUrl, 'databaseUrl');
  const serverKeyPath =
    partial.serverKeyPath ?? (partial.trustRootPath ? undefined : join(dataDir, 'keys', 'server.key'));
  return Object.freeze({
    port: 8080,
    host: '127.0.0.1',
    maxArtifactBytes: 4 * 1024 ** 3,
    artifactDelivery: { mode: 'stream' as const },
    pollSeconds: 300,
    checkinTtlSeconds: 120,
    signingThreads: availableParallelism() > 1 ? 1 : 0,
    logger: false,
    autoFaultClass: 'C' as const,
    ddiTenant: 'DEFAULT',
    now: () => new Date(),
    ...partial,
    dataDir,
    serverKeyPath,
  });
}

export function dataPaths(dataDir: string) {
  return {
    root: dataDir,
    database: join(dataDir, 'sluice.db'),
    artifacts: join(dataDir, 'artifacts'),
    temporary: join(dataDir, 'tmp'),
    keys: join(dataDir, 'keys'),
    adminToken: join(dataDir, 'admin.token'),
    /** Diagnostics bundles uploaded in remote support sessions, one `<session>.gz` each. */
    bundles: join(dataDir, 'bundles'),
  };
}

/** The environment variable that names the database when `--database` is not given. */
export const databaseUrlVariable = 'SLUICE_DATABASE_URL';

/**
 * The database URL of a command: its `--database` flag, else SLUICE_DATABASE_URL, else none
 * (SQLite in the data directory). A bad URL is refused naming the setting it came from.
 */
export function databaseUrlFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnvironment = env[databaseUrlVariable];
  const [url, option] = flag !== undefined ? [flag, '--database'] : [fromEnvironment || undefined, databaseUrlVariable];
  if (url !== undefined) parseDatabaseUrl(url, option);
  return url;
}
