// What a connection may cost the server (docs/architecture.md, "The network"): how long a
// client may take over its headers, how long a request may stall, how long an idle keep-alive
// connection stays, and how many connections are open at once. Node's HTTP server does the
// enforcing; this module turns the server options into its settings.
import { readFileSync } from 'node:fs';
import type { ServerOptions as HttpServerOptions, Server } from 'node:http';

export interface NetworkLimits {
  headersTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  keepAliveTimeoutSeconds: number;
  maxConnections: number;
}

/**
 * The options handed to Fastify(). The stall timeout is the socket's idle timeout
 * (`connectionTimeout`), restarted by every byte in either direction, and not Node's
 * `requestTimeout`, which bounds a whole request: that would cut off a 1 GiB upload on a slow
 * link that is still moving. Node checks the headers deadline on a timer (30 s by default),
 * which would let a trickle outlive its deadline by that much; it is checked more often here.
 */
export function fastifyNetworkOptions(limits: NetworkLimits) {
  const headersTimeout = Math.round(limits.headersTimeoutSeconds * 1000);
  const http: HttpServerOptions = {
    headersTimeout,
    requestTimeout: 0,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.round(headersTimeout / 4))),
  };
  return {
    http,
    connectionTimeout: Math.round(limits.requestTimeoutSeconds * 1000),
    keepAliveTimeout: Math.round(limits.keepAliveTimeoutSeconds * 1000),
    requestTimeout: 0,
  };
}

/** Fastify has no option for it: connections beyond the cap are closed as they arrive. */
export function capConnections(server: Server, limits: NetworkLimits): void {
  server.maxConnections = limits.maxConnections;
}

// Each connection may hold two descriptors (its socket and an artifact being streamed); the
// database, its WAL, logs and uploads need some beyond them.
const reservedDescriptors = 128;
const defaultCap = 10_000;

/**
 * The default cap: as many connections as the process's open-file limit leaves room for, so
 * that a flood of connections is refused before the server runs out of descriptors for its
 * database and artifacts; 10 000 at most, and 1 000 where the limit cannot be read.
 */
export function defaultMaxConnections(): number {
  return maxConnectionsFor(openFileLimit());
}

export function maxConnectionsFor(limit: number | undefined): number {
  if (limit === undefined) return 1000;
  return Math.max(64, Math.min(defaultCap, Math.floor((limit - reservedDescriptors) / 2)));
}

/** The soft RLIMIT_NOFILE (Linux, /proc/self/limits); Node has no call for it. */
export function openFileLimit(limits = '/proc/self/limits'): number | undefined {
  try {
    const line = readFileSync(limits, 'utf8')
      .split('\n')
      .find((row) => row.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === 'unlimited') return Infinity;
    return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}
