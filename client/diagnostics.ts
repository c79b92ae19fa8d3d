// Remote support (DESIGN.md, "Faults and remote support"): when the server asks, with the
// customer's live consent, the agent runs the collectors configured ON THE DEVICE — never
// commands sent by the server — bounds their size and time, and uploads one bundle.
import { readFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname, platform, release, uptime, totalmem, freemem } from 'node:os';
import { gzipSync } from 'node:zlib';
import { request, FormData } from 'undici';
import type { AgentConfig } from './config.js';
import type { AgentStateFile } from './state-file.js';
import { AgentError } from './errors.js';
import type { ProtocolOptions } from './protocol.js';
import { writeFileAtomically } from './state-file.js';

export const collectors = ['logs', 'journal', 'system'] as const;

async function tail(path: string, maxBytes: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await stat(path);
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

export async function collectDiagnostics(config: AgentConfig, requested: string[], state: AgentStateFile, now: Date): Promise<Buffer> {
  const bundle: Record<string, unknown> = { deviceId: config.deviceId, collectedAt: now.toISOString(), collectors: [] as string[] };
  const wanted = new Set(requested.filter((name) => (collectors as readonly string[]).includes(name)));
  let budget = config.diagnostics.maxBytes;
  const deadline = Date.now() + config.diagnostics.timeoutSeconds * 1000;
  if (wanted.has('journal')) {
    bundle.journal = state;
    (bundle.collectors as string[]).push('journal');
  }
  if (wanted.has('system')) {
    bundle.system = {
      hostname: hostname(),
      platform: platform(),
      kernel: release(),
      uptimeSeconds: uptime(),
      memory: { total: totalmem(), free: freemem() },
      node: process.version,
      version: state.device.version,
      activeSlot: state.device.activeSlot,
    };
    (bundle.collectors as string[]).push('system');
  }
  if (wanted.has('logs')) {
    const logs: Record<string, string> = {};
    for (const path of config.diagnostics.logs) {
      if (budget <= 0 || Date.now() > deadline) break;
      try {
        const text = await tail(path, Math.floor(budget / Math.max(1, config.diagnostics.logs.length)));
        logs[path] = text;
        budget -= Buffer.byteLength(text);
      } catch (error) {
        logs[path] = `(unreadable: ${(error as Error).message})`;
      }
    }
    bundle.logs = logs;
    (bundle.collectors as string[]).push('logs');
  }
  return gzipSync(JSON.stringify(bundle));
}

export async function uploadDiagnostics(options: ProtocolOptions, session: string, bundle: Buffer): Promise<void> {
  const form = new FormData();
  form.append('bundle', new Blob([new Uint8Array(bundle)], { type: 'application/gzip' }), 'diagnostics.json.gz');
  const response = await request(new URL(`/api/v1/device/diagnostics/${encodeURIComponent(session)}`, options.server), {
    method: 'POST',
    headers: { authorization: `Bearer ${options.token}` },
    body: form,
    dispatcher: options.dispatcher,
  });
  const text = await response.body.text();
  if (response.statusCode >= 300)
    throw new AgentError('server_error', `diagnostics upload answered ${response.statusCode}: ${text.slice(0, 200)}`);
}

/**
 * Sessions already answered, kept in dataDir so that one bundle is uploaded per session even
 * across restarts (the server asks again on every check-in while the session is open).
 */
export function answeredSessions(dataDir: string) {
  const path = join(dataDir, 'diagnostics-sessions.json');
  let sessions: string[] = [];
  try {
    sessions = JSON.parse(readFileSync(path, 'utf8')) as string[];
  } catch {
    /* none yet */
  }
  return {
    has: (session: string) => sessions.includes(session),
    add(session: string) {
      // Only the recent ones matter: the server closes a session once it has its bundle.
      sessions = [...sessions, session].slice(-100);
      writeFileAtomically(path, JSON.stringify(sessions));
    },
  };
}
