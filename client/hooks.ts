// Install and health hooks: argument vectors (no shell) with a timeout, so a real device can
// delegate to RAUC or SWUpdate (DESIGN.md, "Device agent"). Exit 0 means success.
import { spawn } from 'node:child_process';

export interface HookResult {
  ok: boolean;
  timedOut: boolean;
  code: number | null;
  output: string;
}

/** How long the output pipes may stay open after the hook exited (a child it left behind holds them). */
const drainMilliseconds = 1000;

export function runHook(command: string[], environment: Record<string, string>, timeoutSeconds: number): Promise<HookResult> {
  return new Promise((resolve) => {
    const [program, ...args] = command;
    let output = '';
    let timedOut = false;
    let exitCode: number | null = null;
    let settled = false;
    // detached: the hook leads its own process group, so a timeout can end all of it.
    const child = spawn(program, args, { env: { ...process.env, ...environment }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const settle = (result: HookResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      // The hook may have started children of its own: end the whole process group.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutSeconds * 1000);
    child.on('error', (error) => settle({ ok: false, timedOut: false, code: null, output: `cannot run ${program}: ${error.message}` }));
    child.on('exit', (code) => {
      exitCode = code;
      // A background child that outlives the hook keeps the pipes open: do not wait for it.
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        settle({ ok: exitCode === 0 && !timedOut, timedOut, code: exitCode, output: output.trim() });
      }, drainMilliseconds).unref();
    });
    child.on('close', (code) => settle({ ok: code === 0 && !timedOut, timedOut, code: code ?? exitCode, output: output.trim() }));
  });
}
