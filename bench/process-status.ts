// A process's memory as Linux counts it, from /proc/<pid>/status: used by the bench for the
// processes it starts, and by the bench's own children for themselves ('self'). Its own module so
// that a child bundles nothing else of the bench.
import { readFileSync } from 'node:fs';

/** A field of /proc/<pid>/status given in kB (VmHWM, VmRSS, RssFile, ...), or 0 where absent. */
export function statusKiB(pid: number | 'self', field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? 0);
}

/**
 * Peak resident memory (VmHWM), in MiB. Not `process.resourceUsage().maxRSS`: on Linux that
 * keeps the high-water mark of the memory the process was started from (a child of a 342 MiB
 * node process read 304 MiB there with an RSS of 39 MiB, measured), so a child of the bench
 * would read the bench's peak, not its own.
 */
export const peakRssMiB = (pid: number | 'self'): number => statusKiB(pid, 'VmHWM') / 1024;
