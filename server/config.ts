// The one configuration loader for the server. Options come from the CLI (or a test);
// defaults follow DESIGN.md: data under ./data, listening on 127.0.0.1:8080.
import { resolve, join } from 'node:path';
import { availableParallelism } from 'node:os';

export interface ServerOptions {
  dataDir: string;
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
