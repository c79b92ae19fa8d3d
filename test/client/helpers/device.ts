// A device on disk made from fixtures/agent (config, hooks, slots, pinned root) and an agent
// running in this process with a clock the test moves (STYLE.md: effects injected), so tests
// step through hours of waiting without sleeping.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Test } from 'tap';
import { loadConfig, type AgentConfig } from '../../../client/config.js';
import { createAgent, type Agent, type AgentDependencies } from '../../../client/agent.js';
import type { SignedDocument } from '../../../signing/signed.js';

export const fixtureDirectory = resolve(import.meta.dirname, '../../../fixtures/agent');

export interface Device {
  directory: string;
  configPath: string;
  config: AgentConfig;
  slots: { a: string; b: string };
  dataDir: string;
}

export function makeDevice(
  t: Test,
  options: {
    server: string;
    rootDocument: SignedDocument<unknown>;
    healthExit?: number;
    overrides?: Record<string, unknown>;
    files?: Record<string, string>;
  },
): Device {
  const directory = mkdtempSync(join(tmpdir(), 'sluice-device-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  cpSync(fixtureDirectory, directory, { recursive: true });
  writeFileSync(join(directory, 'root.json'), JSON.stringify(options.rootDocument));
  mkdirSync(join(directory, 'slots', 'a'), { recursive: true });
  mkdirSync(join(directory, 'slots', 'b'), { recursive: true });
  if (options.healthExit) {
    writeFileSync(join(directory, 'health.sh'), `#!/bin/sh\necho "health says no" >&2\nexit ${options.healthExit}\n`);
    chmodSync(join(directory, 'health.sh'), 0o755);
  }
  for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(join(directory, name), content);
  const config = {
    ...JSON.parse(readFileSync(join(directory, 'agent.json'), 'utf8')),
    server: options.server,
    diagnostics: { logs: [], maxBytes: 4096 },
    ...options.overrides,
  };
  const configPath = join(directory, 'agent.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  return {
    directory,
    configPath,
    config: loadConfig(configPath),
    slots: { a: join(directory, 'slots', 'a'), b: join(directory, 'slots', 'b') },
    dataDir: join(directory, 'state'),
  };
}

export function manualClock(start = new Date('2026-12-06T00:00:00Z')) {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance: (milliseconds: number) => {
      current += milliseconds;
    },
    set: (at: Date) => {
      current = at.getTime();
    },
  };
}

export function startAgent(device: Device, dependencies: Partial<AgentDependencies>): Agent {
  return createAgent(device.config, { random: () => 0.5, ...dependencies });
}

/** Steps the agent (ignoring the delays it asks for) until `done` holds; fails after `maximumSteps`. */
export async function stepUntil(agent: Agent, done: (agent: Agent) => boolean, maximumSteps = 50): Promise<number> {
  for (let count = 1; count <= maximumSteps; count++) {
    await agent.step();
    if (done(agent)) return count;
  }
  throw new Error(`the agent never got there; it is in ${agent.state.journal.state} (${agent.state.journal.detail ?? 'no detail'})`);
}

export const slotFiles = (device: Device, slot: 'a' | 'b') => {
  try {
    return readFileSync(join(device.slots[slot], 'image.bin'));
  } catch {
    return null;
  }
};
