// The world every fuzz test attacks: a real app on a temporary data directory with one of
// everything a route may name (release, plans, fault, support sessions, gateway token), and
// `exchange`, which sends one request and checks the promises of issue #8 on its answer:
// no 5xx, a DESIGN.md error body with a catalogued code for every 4xx, and nothing stored.
import { randomBytes } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { startTestServer, seedFleet, signedManifest, uploadRelease, type TestServer } from '../../helpers/server.js';
import { expandAccess } from '../../../server/auth/principal.js';
import { errorStatus, isErrorCode } from '../../../server/errors.js';
import type { RouteEntry } from '../../../server/plugins/authentication.js';
import { storedState, differences } from './stored-state.js';

/** Runs per property: the default keeps `npm test` quick; SLUICE_FUZZ_RUNS asks for more. */
export function fuzzRuns(defaultRuns: number): number {
  const asked = Number(process.env.SLUICE_FUZZ_RUNS);
  return Number.isInteger(asked) && asked > 0 ? asked : defaultRuns;
}

/** fast-check options; SLUICE_FUZZ_SEED replays a failure that fast-check reported. */
export function fuzzOptions(defaultRuns: number) {
  const seed = Number(process.env.SLUICE_FUZZ_SEED);
  return { numRuns: fuzzRuns(defaultRuns), ...(Number.isInteger(seed) ? { seed } : {}) };
}

export interface FuzzRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  payload?: string | Buffer;
}

export interface Outcome {
  status: number;
  body: string;
  bytes: Buffer;
  headers: Record<string, unknown>;
}

const staffRoles = ['admin', 'support', 'release', 'customer', 'device'] as const;
export const tenant = 'DEFAULT';

export async function fuzzWorld(t: Parameters<typeof startTestServer>[0]) {
  // The notification worker writes on its own clock (leases, timed events such as a reminder
  // coming due), which "nothing stored" would blame on whichever request ran meanwhile; what
  // a request itself queues is still seen, in the outbox table.
  const server = await startTestServer(t, {
    notificationWorker: { enabled: false, intervalMs: 1000, leaseSeconds: 10, webhookTimeoutMs: 5000, maxAttempts: 10 },
  });
  const fleet = await seedFleet(server);
  const deviceToken = await fleet.addDevice('emu-1');
  await fleet.addDevice('emu-2');
  const must = async (method: string, url: string, token: string, body?: unknown) => {
    const response = await server.call(method, url, token, body);
    if (response.status >= 300) throw new Error(`world: ${method} ${url} → ${response.status} ${response.body}`);
    return response.json;
  };
  let versions = 0;
  const publish = async (artifact: Buffer) => {
    const manifest = signedManifest(artifact, { product: 'emu', version: `2.${versions++}.0` }, [server.keys.release]);
    const release = await uploadRelease(server, fleet.tokens.release, manifest, artifact);
    if (release.status !== 201) throw new Error(`world: publish → ${release.status} ${JSON.stringify(release.json)}`);
    return release.json.id as string;
  };
  const window = { start: '2027-01-10T02:00', end: '2027-01-10T05:00', timezone: 'Europe/Madrid' };
  const plan = async (devices: string[]) => {
    const id = (
      await must('POST', '/api/v1/plans', fleet.tokens.support, {
        customer: 'acme',
        release: releaseId,
        devices,
        windows: [window],
        deadline: '2027-02-01T00:00:00Z',
      })
    ).id as string;
    await must('POST', `/api/v1/plans/${id}/propose`, fleet.tokens.support);
    return id;
  };
  const session = async (device: string) =>
    (await must('POST', '/api/v1/support-sessions', fleet.tokens.support, { device, reason: 'fuzz', collect: ['logs'] })).id as string;

  // The downloadable release: confirmed for emu-1, so the device may fetch it.
  const artifact = randomBytes(64 * 1024 + 17);
  const releaseId = await publish(artifact);
  const confirmedPlan = await plan(['emu-1']);
  await must('POST', `/api/v1/plans/${confirmedPlan}/confirm`, fleet.tokens.customer, {
    window: 0,
    maintainer: { name: 'Ana', phone: '+34 600' },
  });

  /** What each `:id` names, by the path segment before it; renewed when a request consumed it. */
  const makers: Record<string, () => Promise<string>> = {
    releases: () => publish(randomBytes(1024)),
    plans: () => plan(['emu-2']),
    faults: async () => (await must('POST', '/api/v1/faults', fleet.tokens.support, { customer: 'acme', class: 'C', title: 'fuzz' })).id,
    'support-sessions': () => session('emu-2'),
    diagnostics: async () => {
      const id = await session('emu-1');
      await must('POST', `/api/v1/support-sessions/${id}/consent`, fleet.tokens.customer, {});
      return id;
    },
    'gateway-tokens': async () => (await must('POST', '/api/v1/ddi/gateway-tokens', fleet.tokens.support, { customer: 'acme' })).id,
    // A spare device for `/devices/:id`: rotating or revoking its token must not take emu-1's.
    devices: async () => {
      const id = `emu-spare-${++spares}`;
      await fleet.addDevice(id);
      return id;
    },
  };
  let spares = 0;
  const ids: Record<string, string> = {};
  for (const [kind, make] of Object.entries(makers)) ids[kind] = await make();
  const named: Record<string, string> = {
    tenant,
    controllerId: 'emu-1',
    actionId: '1',
    moduleId: releaseId,
    filename: `emu-2.0.0.bin`,
    file: '1.json',
  };

  const pathFor = (url: string) =>
    url.replace(
      /([^/]*)\/:(\w+)/g,
      (_, before: string, name: string) =>
        `${before}/${encodeURIComponent(name === 'id' ? (ids[before] ?? 'fuzz-missing') : (named[name] ?? 'fuzz-missing'))}`,
    );
  const kindOf = (url: string) => /([^/]*)\/:id/.exec(url)?.[1];

  const tokens: Record<string, string> = { ...fleet.tokens, device: deviceToken };
  /** The roles that may call a route; DDI routes (no policy) take the device's TargetToken. */
  const callersFor = (route: RouteEntry): string[] => {
    if (!route.access) return [`TargetToken ${deviceToken}`];
    const allowed = expandAccess(route.access as never);
    const roles = staffRoles.filter((role) => allowed.has(role));
    return roles.length > 0 ? roles.map((role) => `Bearer ${tokens[role]}`) : [`Bearer ${fleet.tokens.admin}`];
  };

  const { store } = server.app.sluice;
  /** Sends one request and throws, with the request in the message, if a promise is broken. */
  const exchange = async (request: FuzzRequest, route?: RouteEntry): Promise<Outcome> => {
    const before = await storedState(store, server.dataDir);
    const response = await server.app.inject({
      method: request.method as InjectOptions['method'],
      url: request.url,
      headers: request.headers,
      ...(request.payload === undefined ? {} : { payload: request.payload }),
    });
    const outcome = { status: response.statusCode, body: response.body, bytes: response.rawPayload, headers: response.headers };
    const problems = judge(request, outcome);
    if (outcome.status >= 400)
      problems.push(...(await differences(store, before, await storedState(store, server.dataDir))).map((what) => `stored: ${what}`));
    if (problems.length > 0)
      throw new Error(`${describe(request)} → ${outcome.status} ${outcome.body.slice(0, 300)}\n  ${problems.join('\n  ')}`);
    // A request that succeeded may have used its target up (yanked, cancelled, consented): renew it.
    const kind = route && outcome.status < 300 && !['GET', 'HEAD'].includes(request.method) ? kindOf(route.url) : undefined;
    if (kind && makers[kind]) ids[kind] = await makers[kind]();
    return outcome;
  };

  return { server, fleet, deviceToken, artifact, releaseId, ids, tokens, pathFor, callersFor, exchange, publish };
}

export type FuzzWorld = Awaited<ReturnType<typeof fuzzWorld>>;

/** The answer's own promises: below 500, and a 4xx says why in the DESIGN.md shape. */
export function judge(request: FuzzRequest, outcome: Outcome): string[] {
  if (outcome.status >= 500) return [`a ${outcome.status} is a bug`];
  if (outcome.status < 400 || request.method === 'HEAD') return [];
  let body: { error?: { code?: unknown; message?: unknown } };
  try {
    body = JSON.parse(outcome.body);
  } catch {
    return ['the error body is not JSON'];
  }
  const code = body?.error?.code;
  if (typeof code !== 'string' || typeof body.error?.message !== 'string') return ['the error body is not { error: { code, message } }'];
  if (!isErrorCode(code)) return [`error code "${code}" is not in server/errors.ts`];
  if (errorStatus[code] !== outcome.status)
    return [`error code "${code}" is catalogued as ${errorStatus[code]}, answered with ${outcome.status}`];
  return [];
}

export function describe(request: FuzzRequest): string {
  const payload =
    request.payload === undefined ? '' : ` body(${request.payload.length}) ${JSON.stringify(request.payload.toString().slice(0, 160))}`;
  const type = request.headers?.['content-type'] === undefined ? '' : ` [${request.headers['content-type']}]`;
  return `${request.method} ${request.url}${type}${payload}`;
}

/** Routes that speak the JSON API: they declare DESIGN.md's error reply (the portal does not). */
export function jsonApiRoutes(table: RouteEntry[]): RouteEntry[] {
  return table.filter((route) =>
    Object.values((route.schema.response ?? {}) as Record<string, { $ref?: string }>).some((reply) => reply?.$ref === 'ErrorReply'),
  );
}

export type { TestServer };
