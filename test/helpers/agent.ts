// A device on disk for agent tests: config file, hooks, slots, pinned root, and a way to run
// the real `sluice agent` process against a test server.
import { mkdirSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { sluiceBin } from './processes.js';

export interface DeviceOnDisk {
  directory: string;
  configPath: string;
  slots: { a: string; b: string };
  dataDir: string;
}

export function prepareDevice(
  directory: string,
  options: {
    server: string;
    deviceId: string;
    token: string;
    rootPath: string;
    healthExit?: number;
    installSeconds?: number;
    product?: string;
    hardware?: string;
    version?: string;
    extra?: Record<string, unknown>;
  },
): DeviceOnDisk {
  mkdirSync(join(directory, 'slots', 'a'), { recursive: true });
  mkdirSync(join(directory, 'slots', 'b'), { recursive: true });
  copyFileSync(options.rootPath, join(directory, 'root.json'));
  // The install hook writes the image into the inactive slot; the health hook checks it.
  writeFileSync(
    join(directory, 'install.sh'),
    '#!/bin/sh\nset -e\ncp "$SLUICE_ARTIFACT" "$SLUICE_TARGET_SLOT/image.bin"\necho "$SLUICE_VERSION" > "$SLUICE_TARGET_SLOT/version"\n',
  );
  writeFileSync(
    join(directory, 'health.sh'),
    `#!/bin/sh\ntest -f "$SLUICE_TARGET_SLOT/image.bin" || exit 3\nexit ${options.healthExit ?? 0}\n`,
  );
  chmodSync(join(directory, 'install.sh'), 0o755);
  chmodSync(join(directory, 'health.sh'), 0o755);
  const config = {
    server: options.server,
    deviceId: options.deviceId,
    token: options.token,
    trustRoot: 'root.json',
    dataDir: 'state',
    slots: { a: 'slots/a', b: 'slots/b' },
    install: { command: ['./install.sh'], timeoutSeconds: 30, expectedSeconds: options.installSeconds ?? 60 },
    health: { command: ['./health.sh'], timeoutSeconds: 10 },
    product: options.product ?? 'emu',
    hardware: options.hardware ?? 'emu-hw-1',
    version: options.version ?? '1.0.0',
    pollSeconds: 1,
    ...options.extra,
  };
  const configPath = join(directory, 'agent.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  return {
    directory,
    configPath,
    slots: { a: join(directory, 'slots', 'a'), b: join(directory, 'slots', 'b') },
    dataDir: join(directory, 'state'),
  };
}

export function startAgentProcess(
  device: DeviceOnDisk,
  environment: Record<string, string> = {},
): {
  process: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: string | null }>;
  stop: () => Promise<void>;
} {
  const child = spawn(process.execPath, [sluiceBin, 'agent', '--config', device.configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...environment },
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      // A SIGKILLed agent's helper processes (tsx's esbuild) may outlive it holding the pipes:
      // close our ends so the test process is not kept alive by them.
      setTimeout(() => {
        child.stdout!.destroy();
        child.stderr!.destroy();
      }, 100);
      resolve({ code, signal });
    }),
  );
  return {
    process: child,
    output: () => output,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 60_000, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
