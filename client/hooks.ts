// Install and health hooks: argument vectors (no shell) with a timeout, so a real device can
// delegate to RAUC or SWUpdate (DESIGN.md, "Device agent"). Exit 0 means success.
import { spawn } from 'node:child_process';

export interface HookResult { ok: boolean; timedOut: boolean; code: number | null; output: string }

export function runHook(command: string[], environment: Record<string, string>, timeoutSeconds: number): Promise<HookResult> {
  return new Promise((resolve) => {
    const [program, ...args] = command;
    let output = '';
    let timedOut = false;
    const child = spawn(program, args, { env: { ...process.env, ...environment }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-4000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      // The hook may have started children of its own: end the whole process group.
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
    }, timeoutSeconds * 1000);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, timedOut: false, code: null, output: `cannot run ${program}: ${error.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0 && !timedOut, timedOut, code, output: output.trim() });
    });
  });
}
