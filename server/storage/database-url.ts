// The database a server uses, named by one URL (`--database`, SLUICE_DATABASE_URL): either
// `sqlite:PATH` or a libpq-style `postgres://user:pass@host:port/db?sslmode=…`. Parsed here,
// without a driver, so that the configuration refuses a bad URL before anything opens.
//
// sslmode follows libpq's meaning rather than node-postgres's own reading of it (which treats
// `require` as `verify-full` and prints a deprecation warning): `disable` is plain TCP,
// `require` encrypts without checking the certificate (unless `sslrootcert` names a CA, when
// it checks the chain as libpq does), `verify-ca` checks the chain, `verify-full` checks the
// chain and the host name. `allow` and `prefer` fall back to plain TCP when TLS fails, which
// node-postgres cannot do, so they are refused rather than silently changed. Without sslmode
// the connection is plain TCP, as node-postgres does (libpq would try TLS first).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';

export type SslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

export interface PostgresConnection {
  host: string;
  port: number;
  user?: string;
  password?: string;
  database?: string;
  sslmode: SslMode;
  /** false: plain TCP; otherwise the options handed to tls.connect. */
  ssl: false | ConnectionOptions;
  applicationName?: string;
  connectTimeoutMillis?: number;
}

export type DatabaseLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; connection: PostgresConnection };

/** A URL that names no database sluice can open; the message names the option it came from. */
export class DatabaseUrlError extends Error {
  override readonly name = 'DatabaseUrlError';
}

const sslModes: readonly string[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
// libpq's URI parameters that mean something here; any other is refused, as libpq does.
const knownParameters = new Set([
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'application_name',
  'connect_timeout',
  'host',
  'port',
  'user',
  'password',
  'dbname',
]);

/** The password replaced, so that a URL can appear in messages and logs. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

/**
 * `option` names where the URL came from (`--database`, SLUICE_DATABASE_URL) so that the
 * refusal says which setting to fix. Relative SQLite paths resolve against the working
 * directory, like every other path on the command line.
 */
export function parseDatabaseUrl(url: string, option = '--database'): DatabaseLocation {
  const refuse = (why: string): never => {
    throw new DatabaseUrlError(`${option} ${why}, not "${redactDatabaseUrl(url)}"`);
  };
  if (/^sqlite:/i.test(url)) {
    const path = url.slice('sqlite:'.length);
    if (path === '') refuse('must name a file after sqlite: (sqlite:PATH)');
    return { kind: 'sqlite', path: resolve(path) };
  }
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    refuse('must be sqlite:PATH or postgres://user:password@host:port/database');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse('is not a valid URL (percent-encode special characters in the user name and password)');
  }
  const parameters = parsed.searchParams;
  for (const name of parameters.keys()) {
    if (!knownParameters.has(name))
      refuse(`has the parameter "${name}", which sluice does not know (known: ${[...knownParameters].join(', ')})`);
  }
  const sslmode = parameters.get('sslmode') ?? 'disable';
  if (!sslModes.includes(sslmode)) refuse(`has sslmode=${sslmode}; use disable, require, verify-ca or verify-full`);
  if (sslmode === 'allow' || sslmode === 'prefer') {
    refuse(
      `has sslmode=${sslmode}, which falls back to unencrypted connections and is not supported; use sslmode=require (TLS without certificate checks), verify-full, or disable`,
    );
  }
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return refuse('has a badly percent-encoded part');
    }
  };
  const host = parameters.get('host') ?? (decode(parsed.hostname.replace(/^\[(.+)\]$/, '$1')) || 'localhost');
  const portText = parameters.get('port') ?? (parsed.port || '5432');
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) refuse(`has the port "${portText}"`);
  const database = parameters.get('dbname') ?? (parsed.pathname.length > 1 ? decode(parsed.pathname.slice(1)) : undefined);
  if (database?.includes('/')) refuse('must name one database after the host (postgres://host/database)');
  const timeout = parameters.get('connect_timeout');
  const timeoutSeconds = timeout === null ? undefined : Number(timeout);
  if (timeoutSeconds !== undefined && !(Number.isInteger(timeoutSeconds) && timeoutSeconds >= 0))
    refuse(`has connect_timeout=${timeout}: whole seconds`);
  const connection: PostgresConnection = {
    host,
    port,
    user: parameters.get('user') ?? (parsed.username ? decode(parsed.username) : undefined),
    password: parameters.get('password') ?? (parsed.password ? decode(parsed.password) : undefined),
    database,
    sslmode: sslmode as SslMode,
    ssl: tlsOptions(sslmode as SslMode, parameters, refuse),
    applicationName: parameters.get('application_name') ?? undefined,
    // libpq's 0 means "wait forever", as node-postgres's 0 does.
    connectTimeoutMillis: timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000,
  };
  return { kind: 'postgres', url, connection };
}

function tlsOptions(mode: SslMode, parameters: URLSearchParams, refuse: (why: string) => never): false | ConnectionOptions {
  const read = (name: string): string | undefined => {
    const path = parameters.get(name);
    if (path === null) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      return refuse(`names ${name}=${path}, which cannot be read (${(error as Error).message})`);
    }
  };
  if (mode === 'disable') {
    if (parameters.has('sslrootcert') || parameters.has('sslcert') || parameters.has('sslkey'))
      refuse('names TLS files with sslmode=disable');
    return false;
  }
  const ca = read('sslrootcert');
  const cert = read('sslcert');
  const key = read('sslkey');
  const files: ConnectionOptions = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  // node-postgres hands the host to tls.connect, which checks the certificate against it.
  const anyHost = () => undefined;
  switch (mode) {
    // libpq: with a root certificate, require checks the chain as verify-ca does.
    case 'require':
      return ca ? { ...files, rejectUnauthorized: true, checkServerIdentity: anyHost } : { ...files, rejectUnauthorized: false };
    case 'verify-ca':
      return { ...files, rejectUnauthorized: true, checkServerIdentity: anyHost };
    case 'verify-full':
      return { ...files, rejectUnauthorized: true };
  }
}
