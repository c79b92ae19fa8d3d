// Real `sluice` processes for end-to-end tests, on 127.0.0.1 with ephemeral ports.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

import { builtSluice } from './built-cli.js';

/** The entry a user runs after `npm install` (TypeScript through tsx). */
export const sourceBin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'sluice.js');
/** The built CLI (helpers/built-cli.ts): what the tests' child processes run. */
export const sluiceBin = await builtSluice();
const execFileAsync = promisify(execFile);

/**
 * `script`: another form of the CLI, such as the source entry `sourceBin`; `timeoutMs`: longer
 * than the default minute for a verb that runs that long by design (`simulate --duration`).
 */
export async function runSluice(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; script?: string; timeoutMs?: number } = {},
) {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [options.script ?? sluiceBin, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failure.code === 'number' ? failure.code : 1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
  }
}

/**
 * Starts `sluice server` on an ephemeral port and waits until it says where it listens.
 * `nodeArguments` go to node itself (e.g. `--import` of a probe), before the script.
 */
export async function startServerProcess(
  dataDir: string,
  extra: string[] = [],
  nodeArguments: string[] = [],
  script = sluiceBin,
): Promise<{ url: string; process: ChildProcess; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [...nodeArguments, script, 'server', '--data-dir', dataDir, '--port', '0', '--quiet', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    // A loaded two-core machine can take a while; one that never starts is killed, so that its
    // pipes do not hold the test file open until tap's own timeout.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in 60 s: ${output}`));
    }, 60_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[\d.:]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${output}`));
    });
  });
  child.stdout!.resume();
  return {
    url,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * `sluice simulate` of ten devices joining a plan late through one server, until all run
 * `version`: the load of the multi-process tests, one run per server.
 */
export function simulateLateJoiners(serverUrl: string, token: string, directory: string, prefix: string, version: string) {
  mkdirSync(directory, { recursive: true });
  return runSluice(
    [
      'simulate',
      '--server',
      serverUrl,
      '--token',
      token,
      '--devices',
      '10',
      '--customer',
      'acme',
      '--prefix',
      prefix,
      '--data-dir',
      directory,
      '--until-version',
      version,
      '--duration',
      '150',
      '--connections',
      '4',
    ],
    // --duration bounds the run; runSluice's default minute would cut it short on a slow machine.
    { timeoutMs: 180_000 },
  );
}

/**
 * How many devices a `simulateLateJoiners` run has registered: it writes their tokens to its
 * directory once all are (tokens.json). A test that kills a server mid-rollout waits for this
 * first: `sluice simulate` does not retry its registration, so a server killed under it fails
 * the simulate rather than the rollout the test is about (one CI run met exactly that).
 */
export function lateJoinersRegistered(directory: string): number {
  try {
    return Object.keys(JSON.parse(readFileSync(join(directory, 'tokens.json'), 'utf8')) as object).length;
  } catch {
    return 0;
  }
}
