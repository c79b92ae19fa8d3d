// The agent's configuration file (DESIGN.md, "Device agent"). Paths may be relative to the
// file. Unknown fields and missing required ones are refused with the field's name.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import semver from 'semver';
import { ConfigError } from './errors.js';

export interface HookConfig {
  command: string[];
  timeoutSeconds: number;
}
export interface AgentConfig {
  server: string;
  deviceId: string;
  token: string;
  trustRoot: string;
  dataDir: string;
  slots: { a: string; b: string };
  install: HookConfig & { expectedSeconds: number };
  health: HookConfig;
  diagnostics: { logs: string[]; maxBytes: number; timeoutSeconds: number };
  /** The product this device is, checked against the manifest's `product`. */
  product: string;
  /** The device's hardware id, checked against the manifest's `hardware` list. */
  hardware: string;
  /**
   * The version the device runs: `version` as configured (its factory version; once sluice
   * has installed something, the state file knows better), or what `versionFile` said at
   * this start.
   */
  version: string;
  /** The file the running image names its version in, read at each start; null without one. */
  versionFile: string | null;
  /** Fallback poll interval when the server cannot be reached. */
  pollSeconds: number;
  /**
   * Delta updates (docs/delta-updates.md): on unless disabled; `source` is the running image
   * to build from ("{slot}" stands for the active slot's directory), used until a kept copy
   * of the last installed artifact exists (`keepInstalled`, on by default).
   */
  delta: { enabled: boolean; source: string | null; keepInstalled: boolean };
}

type Shape = Record<string, { required: boolean; check: (value: unknown, field: string) => unknown }>;

const string = (value: unknown, field: string) => {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(field, 'must be a non-empty string');
  return value;
};
const boolean = (value: unknown, field: string) => {
  if (typeof value !== 'boolean') throw new ConfigError(field, 'must be true or false');
  return value;
};
const positive = (value: unknown, field: string) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new ConfigError(field, 'must be a positive number');
  return value;
};
const argv = (value: unknown, field: string) => {
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string' && item.length > 0)) {
    throw new ConfigError(field, 'must be an argument vector, e.g. ["./install.sh"] (no shell)');
  }
  return value as string[];
};
function object(shape: Shape) {
  return (value: unknown, field: string) => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(field, 'must be an object');
    const result: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (!(key in shape)) throw new ConfigError(field ? `${field}.${key}` : key, 'is not a known field');
    }
    for (const [key, rule] of Object.entries(shape)) {
      const name = field ? `${field}.${key}` : key;
      const member = (value as Record<string, unknown>)[key];
      if (member === undefined) {
        if (rule.required) throw new ConfigError(name, 'is required');
        continue;
      }
      result[key] = rule.check(member, name);
    }
    return result;
  };
}
const required = (check: Shape[string]['check']) => ({ required: true, check });
const optional = (check: Shape[string]['check']) => ({ required: false, check });

const configShape = object({
  server: required((value, field) => {
    const text = string(value, field);
    if (!/^https?:\/\//.test(text)) throw new ConfigError(field, 'must be an http:// or https:// URL');
    return text.replace(/\/+$/, '');
  }),
  deviceId: required(string),
  token: optional(string),
  tokenFile: optional(string),
  trustRoot: required(string),
  dataDir: required(string),
  slots: required(object({ a: required(string), b: required(string) })),
  install: required(object({ command: required(argv), timeoutSeconds: optional(positive), expectedSeconds: optional(positive) })),
  health: required(object({ command: required(argv), timeoutSeconds: optional(positive) })),
  diagnostics: optional(
    object({
      logs: optional((value, field) => {
        if (!Array.isArray(value) || !value.every((item) => typeof item === 'string'))
          throw new ConfigError(field, 'must be a list of file paths');
        return value;
      }),
      maxBytes: optional(positive),
      timeoutSeconds: optional(positive),
    }),
  ),
  product: required(string),
  hardware: required(string),
  version: optional((value, field) => {
    if (typeof value !== 'string' || !semver.valid(value)) throw new ConfigError(field, 'must be a semantic version');
    return value;
  }),
  versionFile: optional(string),
  pollSeconds: optional(positive),
  delta: optional(object({ enabled: optional(boolean), source: optional(string), keepInstalled: optional(boolean) })),
});

export function parseConfig(raw: unknown, baseDirectory: string): AgentConfig {
  // configShape has checked every field's type and refused unknown ones, so the fields read
  // below are what the table above says.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const value = configShape(raw, '') as Record<string, any>;
  const path = (relative: string) => resolve(baseDirectory, relative);
  let token = value.token as string | undefined;
  if (value.token && value.tokenFile) throw new ConfigError('tokenFile', 'give either token or tokenFile, not both');
  if (value.tokenFile) {
    try {
      token = readFileSync(path(value.tokenFile), 'utf8').trim();
    } catch {
      throw new ConfigError('tokenFile', `cannot read ${path(value.tokenFile)}`);
    }
  }
  if (!token) throw new ConfigError('token', 'is required (or tokenFile)');
  // Without a known running version every release would look like an upgrade (rollback).
  if (value.version && value.versionFile) throw new ConfigError('versionFile', 'give either version or versionFile, not both');
  if (!value.version && !value.versionFile) throw new ConfigError('version', 'is required (or versionFile)');
  const versionFile = value.versionFile ? path(value.versionFile) : null;
  return {
    server: value.server,
    deviceId: value.deviceId,
    token,
    trustRoot: path(value.trustRoot),
    dataDir: path(value.dataDir),
    slots: { a: path(value.slots.a), b: path(value.slots.b) },
    install: {
      command: resolveCommand(value.install.command, baseDirectory),
      timeoutSeconds: value.install.timeoutSeconds ?? 600,
      expectedSeconds: value.install.expectedSeconds ?? 300,
    },
    health: { command: resolveCommand(value.health.command, baseDirectory), timeoutSeconds: value.health.timeoutSeconds ?? 120 },
    diagnostics: {
      logs: (value.diagnostics?.logs ?? []).map(path),
      maxBytes: value.diagnostics?.maxBytes ?? 10 * 1024 * 1024,
      timeoutSeconds: value.diagnostics?.timeoutSeconds ?? 30,
    },
    product: value.product,
    hardware: value.hardware,
    version: versionFile ? readVersionFile(versionFile) : value.version,
    versionFile,
    pollSeconds: value.pollSeconds ?? 60,
    delta: {
      enabled: value.delta?.enabled ?? true,
      // "{slot}" is kept for the agent to fill in; the rest of the path is relative to the file.
      source: value.delta?.source ? (value.delta.source.startsWith('{slot}') ? value.delta.source : path(value.delta.source)) : null,
      keepInstalled: value.delta?.keepInstalled ?? true,
    },
  };
}

function readVersionFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    throw new ConfigError('versionFile', `cannot read ${file}`);
  }
  if (!semver.valid(text))
    throw new ConfigError('versionFile', `${file} must hold a semantic version, not ${JSON.stringify(text.slice(0, 40))}`);
  return text;
}

/** A hook given as "./install.sh" is relative to the configuration file, like every path. */
function resolveCommand(command: string[], baseDirectory: string): string[] {
  const [program, ...rest] = command;
  return [program.startsWith('./') || program.startsWith('../') ? resolve(baseDirectory, program) : program, ...rest];
}

export function loadConfig(file: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError('config', `cannot read ${file}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('config', `${file} is not JSON: ${(error as Error).message}`);
  }
  return parseConfig(raw, dirname(resolve(file)));
}
