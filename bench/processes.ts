// Child processes for benchmarks: the server under test, baselines, and peak memory readings.
// Everything listens on 127.0.0.1 and is killed when the run ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { buildServer, serverEntry } from '../build/server.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The `sluice` CLI measured here is the built one a production server runs (`npm run build`,
 * README "Running in production"), not the tsx-loaded sources; `buildSluice()` makes it.
 */
export const sluiceScript: string = serverEntry;
export const buildSluice: () => Promise<void> = buildServer;
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Spawns a process and waits until its output matches `ready`; returns the first capture. */
export async function startProcess(
  command: string,
  args: string[],
  ready: RegExp,
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
) {
  const child = spawn(command, args, {
    cwd: options.cwd ?? root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not get ready: ${output.slice(-500)}`));
    }, options.timeoutMs ?? 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = ready.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited ${code}: ${output.slice(-500)}`));
    });
  });
  return {
    child,
    match,
    stop: () =>
      new Promise<void>((resolve) => {
        children.delete(child);
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export async function startSluice(dataDir: string, extra: string[] = []) {
  // BENCH_SERVER_NODE_ARGS: node's own flags for the measured server (--cpu-prof, GC settings).
  const nodeArguments = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const started = await startProcess(
    process.execPath,
    [...nodeArguments, sluiceScript, 'server', '--data-dir', dataDir, '--port', '0', '--quiet', ...extra],
    /listening on (http:\/\/[\d.:]+)/,
  );
  return { ...started, url: started.match[1] };
}
