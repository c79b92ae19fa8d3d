// The one configuration loader for the server. Options come from the CLI (or a test);
// defaults follow DESIGN.md: data under ./data, listening on 127.0.0.1:8080.
import { resolve, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { isIP } from 'node:net';
import { parseDatabaseUrl } from './storage/database-url.js';
import { defaultMaxConnections } from './http/network-limits.js';
import { checkSetting, checkSettings, settingFromFlag } from './config-schema.js';
import { defaultServiceHours, validateServiceHours, type ServiceHours } from './domain/service-hours.js';

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
  /**
   * The proxies whose X-Forwarded-For (the client's address: rate limits, logs) and
   * X-Forwarded-Proto (a Secure session cookie) are believed: addresses, CIDRs, or the names
   * loopback, linklocal and uniquelocal (fastify's trustProxy, @fastify/proxy-addr). Absent:
   * none; the client is the connection's peer and forwarded headers are ignored.
   */
  trustProxy?: readonly string[];
  /**
   * Where artifacts and diagnostics bundles live: `s3://BUCKET/PREFIX` (artifact-stores.ts);
   * absent: DIR/artifacts and DIR/bundles.
   */
  artifactStoreUrl?: string;
  /**
   * How artifact bytes leave the server: streamed by Node, handed to nginx, or a redirect to a
   * pre-signed object-store URL that expires after `presignSeconds`.
   */
  artifactDelivery:
    { mode: 'stream' } | { mode: 'x-accel-redirect'; internalPrefix: string } | { mode: 'redirect'; presignSeconds: number };
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
  /** Seconds a client has to send a request's headers: a trickle (slowloris) is cut off. */
  headersTimeoutSeconds: number;
  /**
   * Seconds a request or its answer may stall with no byte moving. Not a total: a slow upload
   * or download that keeps moving is never cut off.
   */
  requestTimeoutSeconds: number;
  /** Seconds an idle keep-alive connection is kept open between requests. */
  keepAliveTimeoutSeconds: number;
  /** Connections open at once; more are closed as they arrive (default: from the open-file limit). */
  maxConnections: number;
  /** The vendor's service hours, in which C and D fault clocks count (README, "Service hours"). */
  serviceHours: ServiceHours;
  /** Share of a fault clock after which fault.clock_warning is sent. */
  clockWarningShare: number;
  /** Hours before a confirmed window's start at which window.reminder is sent. */
  windowReminderHours: readonly number[];
  /** `smtp://host:port` (or smtps://) for notification e-mail; absent: no e-mail is sent. */
  smtpUrl?: string;
  /** The From address of notification e-mail. */
  mailFrom: string;
  /** The notification worker (docs/notifications.md): whether this process runs it, how often, its lease. */
  notificationWorker: {
    enabled: boolean;
    intervalMs: number;
    leaseSeconds: number;
    webhookTimeoutMs: number;
    maxAttempts: number;
    /** Seconds a claimed attempt stays hidden before it is retried (its process may have died); default the timeout plus 5 s. */
    claimSeconds?: number;
  };
}

/** The network limits (http/network-limits.ts): each one's flag and default; the ranges are in config-schema.ts. */
export const networkLimitOptions = {
  headersTimeoutSeconds: { flag: '--headers-timeout', fallback: 20 },
  requestTimeoutSeconds: { flag: '--request-timeout', fallback: 60 },
  keepAliveTimeoutSeconds: { flag: '--keep-alive-timeout', fallback: 5 },
  maxConnections: { flag: '--max-connections' },
} as const;

/** A network limit given as a flag's text or a number, refused with the flag's name outside its range. */
export function networkLimit(name: keyof typeof networkLimitOptions, given: string | number): number {
  if (typeof given === 'string') return settingFromFlag(name, given) as number;
  checkSetting(name, given);
  return given;
}

export function resolveOptions(given: Partial<ServerOptions> = {}): Readonly<ServerOptions> {
  // An option passed as undefined (e.g. an absent CLI flag) keeps its default.
  const partial = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as Partial<ServerOptions>;
  const dataDir = resolve(partial.dataDir ?? 'data');
  if (partial.databaseUrl !== undefined) parseDatabaseUrl(partial.databaseUrl, 'databaseUrl');
  if (partial.trustProxy !== undefined) partial.trustProxy.forEach((entry) => checkProxyEntry(entry, 'trustProxy'));
  const serverKeyPath = partial.serverKeyPath ?? (partial.trustRootPath ? undefined : join(dataDir, 'keys', 'server.key'));
  // Every setting the schema covers, refused naming its flag (config-schema.ts).
  checkSettings(partial);
  if (partial.serviceHours) validateServiceHours(partial.serviceHours);
  if (partial.clockWarningShare !== undefined && !(partial.clockWarningShare > 0 && partial.clockWarningShare < 1))
    throw new Error(`clockWarningShare must be between 0 and 1, not ${partial.clockWarningShare}`);
  if (partial.smtpUrl !== undefined) smtpUrlFrom(partial.smtpUrl);
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
    headersTimeoutSeconds: networkLimitOptions.headersTimeoutSeconds.fallback,
    requestTimeoutSeconds: networkLimitOptions.requestTimeoutSeconds.fallback,
    keepAliveTimeoutSeconds: networkLimitOptions.keepAliveTimeoutSeconds.fallback,
    maxConnections: partial.maxConnections ?? defaultMaxConnections(),
    serviceHours: defaultServiceHours,
    clockWarningShare: 0.8,
    windowReminderHours: [24, 1],
    mailFrom: 'sluice@localhost',
    notificationWorker: defaultNotificationWorker,
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

const proxyNames = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Refuses, naming `option`, what proxy-addr would not read as an address, CIDR or name. */
function checkProxyEntry(entry: string, option: string): void {
  const [address, prefix, extra] = entry.split('/');
  const family = isIP(address);
  const bits = family === 4 ? 32 : 128;
  const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
  if (proxyNames.has(entry) || (family !== 0 && prefixOk && extra === undefined)) return;
  throw new Error(`${option}: "${entry}" is not an IP address, a CIDR (10.0.0.0/8) or one of loopback, linklocal, uniquelocal`);
}

/** `--trust-proxy 10.0.0.1,192.168.0.0/16`: the list, each entry checked. */
export function parseTrustProxy(text: string, option = '--trust-proxy'): string[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error(`${option} needs at least one address or CIDR`);
  entries.forEach((entry) => checkProxyEntry(entry, option));
  return entries;
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

/** The default lifetime of a pre-signed artifact URL: long enough to start a download, short enough not to be shared. */
export const defaultPresignSeconds = 300;

/**
 * The delivery mode of `--artifact-delivery stream|x-accel-redirect|redirect`, with
 * `--x-accel-prefix PATH` (which alone means x-accel-redirect) and `--presign-seconds N`.
 */
export function artifactDeliveryFrom(given: {
  mode?: string;
  xAccelPrefix?: string;
  presignSeconds?: string;
}): ServerOptions['artifactDelivery'] | undefined {
  const mode = given.mode ?? (given.xAccelPrefix ? 'x-accel-redirect' : undefined);
  if (given.presignSeconds !== undefined && mode !== 'redirect')
    throw new Error('--presign-seconds goes with --artifact-delivery redirect');
  if (mode === undefined || mode === 'stream') {
    if (given.xAccelPrefix) throw new Error('--x-accel-prefix goes with --artifact-delivery x-accel-redirect');
    return mode && { mode };
  }
  if (mode === 'x-accel-redirect') {
    if (!given.xAccelPrefix)
      throw new Error(
        '--artifact-delivery x-accel-redirect needs --x-accel-prefix PATH, the internal location of nginx (e.g. /protected-artifacts)',
      );
    return { mode, internalPrefix: given.xAccelPrefix };
  }
  if (mode === 'redirect') {
    if (given.xAccelPrefix) throw new Error('--x-accel-prefix goes with --artifact-delivery x-accel-redirect, not redirect');
    const seconds =
      given.presignSeconds === undefined ? defaultPresignSeconds : (settingFromFlag('presignSeconds', given.presignSeconds) as number);
    return { mode, presignSeconds: seconds };
  }
  throw new Error(`--artifact-delivery must be stream, x-accel-redirect or redirect, not "${mode}"`);
}

const defaultNotificationWorker = { enabled: true, intervalMs: 1000, leaseSeconds: 10, webhookTimeoutMs: 5000, maxAttempts: 10 };

/**
 * `--notification-lease SECONDS` and `--notification-claim SECONDS` (tests that kill a server
 * and wait for another to take over): the worker's lease, and how long a claimed attempt is
 * hidden; an attempt then times out a second before its claim ends, at most the default 5 s.
 */
export function notificationTimingsFrom(
  lease: string | undefined,
  claim: string | undefined,
): ServerOptions['notificationWorker'] | undefined {
  if (lease === undefined && claim === undefined) return undefined;
  const seconds = (text: string | undefined, flag: string, minimum: number) => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < minimum || value > 3600)
      throw new Error(`${flag} must be whole seconds from ${minimum} to 3600, not "${text}"`);
    return value;
  };
  const leaseSeconds = seconds(lease, '--notification-lease', 1) ?? defaultNotificationWorker.leaseSeconds;
  const claimSeconds = seconds(claim, '--notification-claim', 2);
  if (claimSeconds === undefined) return { ...defaultNotificationWorker, leaseSeconds };
  return {
    ...defaultNotificationWorker,
    leaseSeconds,
    claimSeconds,
    webhookTimeoutMs: Math.min(defaultNotificationWorker.webhookTimeoutMs, (claimSeconds - 1) * 1000),
  };
}

/** `--smtp smtp://host:port` (or smtps://, with user:password@ if the relay needs them), refused naming the flag. */
export function smtpUrlFrom(text: string): string {
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    /* refused below */
  }
  if (!url || !['smtp:', 'smtps:'].includes(url.protocol) || !url.hostname)
    throw new Error(`--smtp must be smtp://host:port or smtps://host:port, not "${text}"`);
  return text;
}

const weekdayNames = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/**
 * `--service-hours "Mon-Fri 08:00-17:00 Europe/Madrid holidays 2026-12-25,2027-01-01"`:
 * weekdays (a range or a comma list), hours, zone, and optional holidays.
 */
export function serviceHoursFrom(text: string): ServiceHours {
  const match = /^\s*([A-Za-z,-]+)\s+(\d{2}:\d{2})-(\d{2}:\d{2})\s+(\S+)(?:\s+holidays\s+(\S+))?\s*$/i.exec(text);
  const fail = (why: string): never => {
    throw new Error(`--service-hours: ${why}; e.g. "Mon-Fri 08:00-17:00 Europe/Madrid holidays 2026-12-25"`);
  };
  if (!match) return fail(`cannot read "${text}"`);
  const day = (name: string) => {
    const index = weekdayNames.indexOf(name.toLowerCase().slice(0, 3));
    return index < 0 ? fail(`"${name}" is not a weekday`) : index + 1;
  };
  const weekdays = new Set<number>();
  for (const part of match[1].split(',')) {
    const [first, last] = part.split('-');
    const from = day(first);
    const to = last === undefined ? from : day(last);
    for (let weekday = from; ; weekday = (weekday % 7) + 1) {
      weekdays.add(weekday);
      if (weekday === to) break;
    }
  }
  const hours: ServiceHours = {
    weekdays: [...weekdays].sort(),
    opens: match[2],
    closes: match[3],
    zone: match[4],
    holidays: match[5] ? match[5].split(',') : [],
  };
  try {
    return validateServiceHours(hours);
  } catch (error) {
    return fail((error as Error).message);
  }
}
