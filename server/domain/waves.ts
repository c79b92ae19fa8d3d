// Waves (DESIGN.md, "Upgrade plans": "waves (e.g. 10% then the rest, each with a failure
// limit that pauses the plan)"). A plan's devices are drawn into ordered waves at random but
// reproducibly from the plan's seed; a wave is judged against its failure limit; the next
// wave opens when the previous one succeeded and its soak time has passed. Pure: no clock,
// no system randomness, no I/O.
import { SluiceError } from '../errors.js';
import { failedStates, finishedStates } from '../../client/states.js';

export type FailureLimit = { percent?: number; count?: number };

export type WaveSpec = {
  name?: string;
  /** Share of the plan's devices, 0 < percent ≤ 100 (the last wave always takes the remainder). */
  percent?: number;
  /** A fixed number of devices instead of a share. */
  count?: number;
  /**
   * Share (0..1) of the wave's devices that must succeed for the wave to succeed. Default:
   * none beyond the failure limit, so that the two can never contradict each other.
   */
  successThreshold?: number;
  /** Failures allowed: above `percent` of the finished devices or above `count` pauses the plan. Default: `defaultFailureLimit`. */
  failureLimit?: FailureLimit;
  /** Judge the failure *rate* only once this many devices have finished. Default: `defaultMinFinished`. */
  minFinished?: number;
  /** Time to wait after this wave succeeds before the next one opens. Default 0. */
  soakSeconds?: number;
};

export type WaveCounts = { total: number; succeeded: number; failed: number; inProgress: number };
export type WaveVerdict = 'running' | 'succeeded' | 'failed';

/** More than 10% of the finished devices failing pauses the plan. */
export const defaultFailureLimit: FailureLimit = { percent: 10 };
/** A failure rate means little on fewer than ten finished devices (or the whole wave, if smaller). */
export const defaultMinFinished = 10;
/** Without waves: one wave of everything, with the default failure limit. */
export const defaultWave: WaveSpec = { name: 'all', percent: 100, failureLimit: defaultFailureLimit };

/** The specs a plan actually runs: its own, or the single default wave. */
export function effectiveWaves(specs: readonly WaveSpec[]): WaveSpec[] {
  return specs.length > 0 ? [...specs] : [defaultWave];
}

const isShare = (value: unknown, maximum: number) => typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= maximum;
const isCount = (value: unknown) => Number.isInteger(value) && (value as number) >= 0;

/** Checks wave specs from a request; throws validation_failed naming the wave and field. */
export function validateWaves(value: unknown): WaveSpec[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new SluiceError('validation_failed', 'waves must be a list');
  return value.map((item, index) => {
    const where = `waves[${index}]`;
    if (!item || typeof item !== 'object' || Array.isArray(item)) throw new SluiceError('validation_failed', `${where} must be an object`);
    const spec = item as Record<string, unknown>;
    if (spec.percent !== undefined && (!isShare(spec.percent, 100) || spec.percent === 0))
      throw new SluiceError('validation_failed', `${where}.percent must be above 0 and at most 100`);
    if (spec.count !== undefined && (!isCount(spec.count) || spec.count === 0))
      throw new SluiceError('validation_failed', `${where}.count must be a whole number above 0`);
    if (spec.percent !== undefined && spec.count !== undefined)
      throw new SluiceError('validation_failed', `${where} takes percent or count, not both`);
    if (spec.successThreshold !== undefined && !isShare(spec.successThreshold, 1))
      throw new SluiceError('validation_failed', `${where}.successThreshold must be between 0 and 1`);
    if (spec.minFinished !== undefined && !isCount(spec.minFinished))
      throw new SluiceError('validation_failed', `${where}.minFinished must be a whole number`);
    if (spec.soakSeconds !== undefined && !isCount(spec.soakSeconds))
      throw new SluiceError('validation_failed', `${where}.soakSeconds must be a whole number of seconds`);
    const limit = spec.failureLimit as Record<string, unknown> | undefined;
    if (limit !== undefined) {
      if (!limit || typeof limit !== 'object' || Array.isArray(limit))
        throw new SluiceError('validation_failed', `${where}.failureLimit must be {percent?, count?}`);
      if (limit.percent !== undefined && !isShare(limit.percent, 100))
        throw new SluiceError('validation_failed', `${where}.failureLimit.percent must be between 0 and 100`);
      if (limit.count !== undefined && !isCount(limit.count))
        throw new SluiceError('validation_failed', `${where}.failureLimit.count must be a whole number`);
    }
    return spec as WaveSpec;
  });
}

/** FNV-1a, 32 bits: turns the plan's seed string into the PRNG's state. */
function hashSeed(seed: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(seed)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** mulberry32: a tiny, well-known 32-bit PRNG; same seed, same sequence, on every machine. */
export function seededRandom(seed: string): () => number {
  let state = hashSeed(seed);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Wave membership: a seeded Fisher–Yates shuffle of the (sorted, de-duplicated) devices cut
 * into waves by `count` or `percent` (rounded up). Every device lands in exactly one wave,
 * the last wave takes the remainder, and every wave gets at least one device while devices
 * remain. Same devices, specs and seed: same waves, whatever order the devices came in.
 */
export function assignWaves(deviceIds: string[], specs: WaveSpec[], seed: string): string[][] {
  const waves = effectiveWaves(specs);
  const random = seededRandom(seed);
  const shuffled = [...new Set(deviceIds)].sort();
  for (let index = shuffled.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [shuffled[index], shuffled[other]] = [shuffled[other], shuffled[index]];
  }
  const result: string[][] = [];
  let taken = 0;
  waves.forEach((spec, index) => {
    const remaining = shuffled.length - taken;
    const later = waves.length - index - 1;
    const wanted = later === 0 ? remaining : (spec.count ?? Math.ceil(((spec.percent ?? 100) / 100) * shuffled.length));
    // Leave one device for each later wave while there are enough to go round.
    const reserve = Math.min(later, Math.max(0, remaining - 1));
    const size = remaining === 0 ? 0 : Math.max(1, Math.min(wanted, remaining - reserve));
    result.push(shuffled.slice(taken, taken + size));
    taken += size;
  });
  return result;
}

/**
 * A wave's verdict. `failed` as soon as it is certain (more failures than `failureLimit.count`,
 * or more than `failureLimit.percent` of the whole wave), or once `minFinished` devices have
 * finished and the failure rate among them is above `failureLimit.percent`. `succeeded` when
 * every device has finished within the limit and, if set, at or above `successThreshold`.
 */
export function judgeWave(spec: WaveSpec, counts: WaveCounts): WaveVerdict {
  const { total, succeeded, failed } = counts;
  const finished = succeeded + failed;
  const limit = spec.failureLimit ?? defaultFailureLimit;
  if (limit.count !== undefined && failed > limit.count) return 'failed';
  if (limit.percent !== undefined) {
    if (failed * 100 > limit.percent * total) return 'failed';
    const minimum = Math.max(1, Math.min(total, spec.minFinished ?? defaultMinFinished));
    if (finished >= minimum && failed * 100 > limit.percent * finished) return 'failed';
  }
  if (total === 0 || finished < total) return 'running';
  if (spec.successThreshold !== undefined && succeeded < spec.successThreshold * total) return 'failed';
  return 'succeeded';
}

export type WavesState = {
  verdicts: WaveVerdict[];
  /** Devices in waves 0..openWave may act. */
  openWave: number;
  /** A wave within the open ones failed: DESIGN.md, the failure limit "pauses the plan". */
  mustPause: boolean;
  failedWave: number | null;
  /** When the next wave opens, if it only waits for its predecessor's soak time. */
  nextOpensAt: Date | null;
};

/**
 * Which wave is open at `now`: wave 0 from confirmation; wave i+1 once wave i succeeded and
 * `soakSeconds` have passed since it finished (`waveFinishedAt[i]`; a wave with a soak time
 * but no recorded finish stays closed until the caller records one).
 */
export function waveStates(
  specs: readonly WaveSpec[],
  countsPerWave: readonly WaveCounts[],
  now: Date,
  waveFinishedAt: readonly (Date | null | undefined)[],
): WavesState {
  const waves = effectiveWaves(specs);
  const empty: WaveCounts = { total: 0, succeeded: 0, failed: 0, inProgress: 0 };
  const verdicts = waves.map((spec, index) => judgeWave(spec, countsPerWave[index] ?? empty));
  const state: WavesState = { verdicts, openWave: 0, mustPause: false, failedWave: null, nextOpensAt: null };
  for (let index = 0; index < waves.length; index++) {
    if (verdicts[index] === 'failed') return { ...state, mustPause: true, failedWave: index };
    if (verdicts[index] !== 'succeeded' || index === waves.length - 1) return state;
    const opensAt = nextWaveOpensAt(waves[index], waveFinishedAt[index]);
    if (opensAt === undefined) return state;
    if (opensAt && opensAt > now) return { ...state, nextOpensAt: opensAt };
    state.openWave = index + 1;
  }
  return state;
}

/**
 * The soak rule, for a wave that succeeded: the next wave opens `soakSeconds` after it
 * finished. null: at once (no soak time); undefined: not until its finish is recorded.
 */
export function nextWaveOpensAt(spec: WaveSpec, finishedAt: Date | null | undefined): Date | null | undefined {
  const soak = (spec.soakSeconds ?? 0) * 1000;
  if (soak === 0) return null;
  return finishedAt ? new Date(finishedAt.getTime() + soak) : undefined;
}

/** The spec wave `index` runs by: its own, the last one for an index beyond them, the default without waves. */
export function waveSpecOf(specs: readonly WaveSpec[], index: number): WaveSpec {
  const waves = effectiveWaves(specs);
  return waves[index] ?? waves[waves.length - 1];
}

/** A wave as recorded once judged: its stored verdict and when it was reached. */
export type RecordedWave = { wave: number; status: string; finishedAt: Date | null };

/**
 * The open wave from the verdicts already recorded (the check-in's question: may a device of
 * wave N act?): waves open in order, each once every earlier one succeeded and soaked. Given
 * only the waves before a device's own, the answer is exact up to that wave, which is all the
 * comparison `deviceWave <= openWave` needs.
 */
export function openWave(specs: readonly WaveSpec[], recorded: readonly RecordedWave[], now: Date): number {
  let open = 0;
  for (const wave of [...recorded].sort((a, b) => a.wave - b.wave)) {
    if (wave.wave !== open || wave.status !== 'succeeded') break;
    const opensAt = nextWaveOpensAt(waveSpecOf(specs, wave.wave), wave.finishedAt);
    if (opensAt === undefined || (opensAt && opensAt > now)) break;
    open = wave.wave + 1;
  }
  return open;
}

/**
 * Issue: plans, "Waves": a device that joins the customer after confirmation joins the LAST
 * wave (it was never part of the canary). A device already placed keeps its wave.
 */
export function placeLateDevice(waves: readonly (readonly string[])[], deviceId: string): number {
  const existing = waves.findIndex((members) => members.includes(deviceId));
  return existing >= 0 ? existing : waveForLateDevice(waves.length);
}

/** The last wave's index for a plan with `waveCount` waves. */
export function waveForLateDevice(waveCount: number): number {
  return Math.max(0, waveCount - 1);
}

/** The wave a device created after its plan's waves were drawn joins: the plan's last. */
export function lateDeviceWave(specs: readonly WaveSpec[]): number {
  return waveForLateDevice(effectiveWaves(specs).length);
}

/** A plan may cap how many of its devices install at once; no cap when absent. */
export function mayStartInstall(activeInstalls: number, maxConcurrent?: number | null): boolean {
  return maxConcurrent === undefined || maxConcurrent === null || activeInstalls < maxConcurrent;
}

/** How many of a plan's devices are in a wave (null: not drawn yet) and agent state (null: none reported). */
export type StateCount = { wave: number | null; state: string | null; devices: number };

export type PlanTally = {
  total: number;
  /** Devices per reported agent state; `pending` for those that reported none. */
  byState: Record<string, number>;
  waves: Map<number, WaveCounts>;
  /** Every device has finished its part (committed, failed or rolled back). */
  everyoneFinished: boolean;
};

/** A plan's progress from its devices' states: committed succeeded, failed and rolled back failed, any other report in flight. */
export function tallyPlan(counts: readonly StateCount[]): PlanTally {
  const tally: PlanTally = { total: 0, byState: {}, waves: new Map(), everyoneFinished: true };
  for (const { wave, state, devices } of counts) {
    const name = state ?? 'pending';
    tally.total += devices;
    tally.byState[name] = (tally.byState[name] ?? 0) + devices;
    if (state === null || !finishedStates.has(state)) tally.everyoneFinished = false;
    if (wave === null) continue;
    const counted = tally.waves.get(wave) ?? { total: 0, succeeded: 0, failed: 0, inProgress: 0 };
    counted.total += devices;
    if (name === 'committed') counted.succeeded += devices;
    else if (failedStates.has(name)) counted.failed += devices;
    else if (name !== 'pending' && name !== 'idle') counted.inProgress += devices;
    tally.waves.set(wave, counted);
  }
  return tally;
}
