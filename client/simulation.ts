// N virtual devices in one process (issue: agent, `sluice simulate`): the same agent and state
// machine, with slots in a temporary directory and in-process hooks instead of commands, for
// demos and load. The pinned root is fetched from the server itself, which a real device must
// never do; a simulator has nothing to protect.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Agent as UndiciAgent, request, type Dispatcher } from 'undici';
import { createAgent, type Agent } from './agent.js';
import type { AgentConfig } from './config.js';
import type { HookResult } from './hooks.js';

export interface SimulationOptions {
  server: string;
  token: string;
  devices: number;
  dataDir: string;
  customer: string;
  product: string;
  hardware: string;
  version: string;
  prefix: string;
  /** Share (0..1) of devices whose health check fails, to exercise rollbacks and wave limits. */
  failureRate: number;
  /**
   * At most this many connections for check-ins and reports, and as many for downloads,
   * shared by every virtual device. One process stands in for the whole fleet, so it must
   * bound its sockets: unbounded, 10,000 devices polling at once opened a connection per
   * request in flight and ran the simulator and the server out of file descriptors (20,000
   * here), after which refused connections, not the server's work, set the fleet's pace.
   * Requests beyond the bound wait in the pool; the server still sees the fleet's request rate.
   */
  connections: number;
  log: (line: string) => void;
}

async function api(options: SimulationOptions, dispatcher: Dispatcher, method: 'GET' | 'POST', path: string, body?: unknown) {
  const response = await request(new URL(path, options.server), {
    dispatcher,
    method,
    headers: { authorization: `Bearer ${options.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    // A server that never answers is an error to report, not a simulator that waits in silence.
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await response.body.text();
  return { status: response.statusCode, json: text ? JSON.parse(text) : null };
}

const busy = new Set([429, 502, 503, 504]);

/**
 * A call made again, a few times with growing pauses, when the connection failed or the server
 * (or a proxy) was busy: a simulated fleet registers against servers being restarted and load
 * balancers. `attempt` is 0 for the first try.
 */
async function withRetries<T extends { status: number }>(call: (attempt: number) => Promise<T>, what: string): Promise<T> {
  const pauses = [500, 1000, 2000, 4000];
  for (let attempt = 0; ; attempt++) {
    try {
      const answer = await call(attempt);
      if (!busy.has(answer.status) || attempt === pauses.length) return answer;
    } catch (error) {
      if (attempt === pauses.length) throw new Error(`${what}: ${(error as Error).message}`, { cause: error });
    }
    await new Promise((resolve) => setTimeout(resolve, pauses[attempt]));
  }
}

/**
 * A new device's token. When an attempt's answer was lost, the device may exist already (409 on
 * the next attempt): its token is then issued anew, which revokes the one never received.
 */
async function register(options: SimulationOptions, dispatcher: Dispatcher, id: string): Promise<string> {
  const created = await withRetries(async (attempt) => {
    const answer = await api(options, dispatcher, 'POST', '/api/v1/devices', {
      id,
      customer: options.customer,
      product: options.product,
      hardware: options.hardware,
      version: options.version,
    });
    if (answer.status !== 409 || attempt === 0) return answer;
    return api(options, dispatcher, 'POST', `/api/v1/devices/${encodeURIComponent(id)}/token`);
  }, `cannot register ${id}`);
  if (created.status !== 201) throw new Error(`cannot register ${id}: ${created.status} ${JSON.stringify(created.json)}`);
  return created.json.token;
}

/** Registers the virtual devices (remembering their tokens) and returns one agent per device. */
export async function prepareSimulation(options: SimulationOptions): Promise<Agent[]> {
  const dispatcher = new UndiciAgent({ connections: options.connections });
  const downloadAgent = new (options.server.startsWith('https:') ? HttpsAgent : HttpAgent)({
    keepAlive: true,
    maxSockets: options.connections,
  });
  mkdirSync(options.dataDir, { recursive: true });
  const tokensPath = join(options.dataDir, 'tokens.json');
  const tokens: Record<string, string> = existsSync(tokensPath) ? JSON.parse(readFileSync(tokensPath, 'utf8')) : {};
  const rootPath = join(options.dataDir, 'root.json');
  const root = await withRetries(() => api(options, dispatcher, 'GET', '/api/v1/trust/root.json'), 'cannot fetch the trust root');
  if (root.status !== 200) throw new Error(`cannot fetch the trust root: ${root.status} ${JSON.stringify(root.json)}`);
  writeFileSync(rootPath, JSON.stringify(root.json));
  const agents: Agent[] = [];
  options.log(`registering ${options.devices} virtual devices (those not in ${tokensPath} yet)`);
  for (let index = 1; index <= options.devices; index++) {
    const id = `${options.prefix}${String(index).padStart(5, '0')}`;
    if (!tokens[id]) {
      tokens[id] = await register(options, dispatcher, id);
      if (index % 500 === 0) writeFileSync(tokensPath, JSON.stringify(tokens));
    }
    const directory = join(options.dataDir, id);
    const config: AgentConfig = {
      server: options.server,
      deviceId: id,
      token: tokens[id],
      trustRoot: rootPath,
      dataDir: join(directory, 'state'),
      slots: { a: join(directory, 'a'), b: join(directory, 'b') },
      install: { command: ['simulated-install'], timeoutSeconds: 60, expectedSeconds: 60 },
      health: { command: ['simulated-health'], timeoutSeconds: 60 },
      diagnostics: { logs: [], maxBytes: 1024 * 1024, timeoutSeconds: 5 },
      product: options.product,
      hardware: options.hardware,
      version: options.version,
      versionFile: null,
      pollSeconds: 30,
      // Thousands of simulated devices keep no copies of what they installed.
      delta: { enabled: false, source: null, keepInstalled: false },
    };
    const failing = index <= Math.round(options.devices * options.failureRate);
    const runHook = async (command: string[], environment: Record<string, string>): Promise<HookResult> => {
      if (command[0] === 'simulated-install') {
        mkdirSync(environment.SLUICE_TARGET_SLOT, { recursive: true });
        writeFileSync(join(environment.SLUICE_TARGET_SLOT, 'version'), environment.SLUICE_VERSION);
        return { ok: true, timedOut: false, code: 0, output: '' };
      }
      return { ok: !failing, timedOut: false, code: failing ? 1 : 0, output: failing ? 'simulated health failure' : '' };
    };
    agents.push(createAgent(config, { runHook, dispatcher, downloadAgent, log: () => {} }));
  }
  writeFileSync(tokensPath, JSON.stringify(tokens));
  return agents;
}

export function summarize(agents: Agent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const agent of agents) {
    const key = agent.state.journal.state === 'idle' ? `idle@${agent.state.device.version}` : agent.state.journal.state;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
