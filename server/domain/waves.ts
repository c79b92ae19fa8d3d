// Waves (issue: plans, "Waves"): a plan's devices in ordered waves, e.g. a 10% canary then
// the rest, each judged against its failure limit once enough devices have finished.
import { createHash } from 'node:crypto';

export interface WaveSpec {
  name?: string;
  /** Share of the plan's devices (the last wave always takes the remainder). */
  percent?: number;
  count?: number;
  /** Share (0..1) of the wave's devices that must succeed for the wave to succeed. */
  successThreshold?: number;
  failureLimit?: { percent?: number; count?: number };
  /** Failures are judged only once this many devices have finished. */
  minFinished?: number;
  /** Time to wait after this wave succeeds before the next one opens. */
  soakSeconds?: number;
}

export interface WaveCounts { total: number; succeeded: number; failed: number; inProgress: number }
export type WaveVerdict = 'running' | 'succeeded' | 'failed';

/** Without waves, one wave of everything that fails when more than a fifth of its devices fail. */
export const defaultWave: WaveSpec = { percent: 100, failureLimit: { percent: 20 }, minFinished: 1 };

/**
 * A seeded PRNG (mulberry32) so membership is random yet reproducible from the plan's seed.
 * node:crypto only hashes the seed here; nothing random is drawn from the system.
 */
function seededRandom(seed: string): () => number {
  let state = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

export function assignWaves(deviceIds: string[], specs: WaveSpec[], seed: string): string[][] {
  const waves = specs.length > 0 ? specs : [defaultWave];
  const random = seededRandom(seed);
  // Sorted first, so the draw does not depend on the order the devices were listed in.
  const shuffled = [...new Set(deviceIds)].sort();
  for (let index = shuffled.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [shuffled[index], shuffled[other]] = [shuffled[other], shuffled[index]];
  }
  const result: string[][] = [];
  let taken = 0;
  waves.forEach((spec, index) => {
    const remaining = shuffled.length - taken;
    const isLast = index === waves.length - 1;
    let size = isLast ? remaining : spec.count ?? Math.ceil(((spec.percent ?? 100) / 100) * shuffled.length);
    // Every wave gets at least one device while devices remain, and later waves are not starved.
    size = Math.max(remaining > 0 ? 1 : 0, Math.min(size, remaining - (isLast ? 0 : Math.min(waves.length - index - 1, remaining - 1))));
    result.push(shuffled.slice(taken, taken + size));
    taken += size;
  });
  return result;
}

export function judgeWave(spec: WaveSpec, counts: WaveCounts): WaveVerdict {
  const finished = counts.succeeded + counts.failed;
  const limit = spec.failureLimit ?? defaultWave.failureLimit!;
  if (finished >= Math.max(1, spec.minFinished ?? 1)) {
    const overCount = limit.count !== undefined && counts.failed > limit.count;
    const overPercent = limit.percent !== undefined && finished > 0 && (counts.failed / finished) * 100 > limit.percent;
    if (overCount || overPercent) return 'failed';
  }
  if (counts.total === 0 || finished < counts.total) return 'running';
  const threshold = spec.successThreshold ?? 0;
  return counts.succeeded / counts.total >= threshold ? 'succeeded' : 'failed';
}

/** Devices that join after confirmation go to the last wave. */
export function waveForLateDevice(waveCount: number): number {
  return Math.max(0, waveCount - 1);
}

/** A plan may cap how many devices install at once inside a window. */
export function mayStartInstall(activeInstalls: number, maxConcurrent?: number | null): boolean {
  return maxConcurrent === undefined || maxConcurrent === null || activeInstalls < maxConcurrent;
}
