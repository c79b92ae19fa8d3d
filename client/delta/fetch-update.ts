// How the agent gets an update's bytes (docs/delta-updates.md): by delta when the signed
// manifest names a chunk index and pack and the device has a seed image, else (and after any delta
// failure other than the network's) by the full, resumable download. Either way the partial
// file ends as the verified artifact, and the bytes it cost are counted for the report.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Agent as HttpAgent } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { download } from '../download.js';
import { parseChunkIndex, type ChunkIndex } from '../../signing/chunk-index.js';
import { deltaDownload } from './delta-download.js';
import { DeltaUnusable } from './range-fetch.js';
import { deltaPaths, installedPaths, sourcePaths } from './paths.js';
import { rememberSourceCut, sameParameters, seedByChunking, seedFromIndex, seedOfSource, type Seed } from './seed.js';
import { defaultChunking, type ChunkingParameters } from '../../signing/chunking.js';

export interface UpdateTarget {
  release: string;
  artifactUrl: string;
  size: number;
  sha256: string;
  chunkIndex?: { sha256: string; size: number };
  chunkPack?: { sha256: string; size: number };
}

export interface AgentSettings {
  server: string;
  token: string;
  dataDir: string;
  /** The running image to build from when no kept artifact is there (config `delta.source`), or null. */
  source: string | null;
  enabled: boolean;
}

export interface Delivery {
  method: 'delta' | 'full';
  bytesDownloaded: number;
  bytesFull: number;
}

/**
 * V8's young generation grows (up to 16 MiB a semi-space, three of them) while thousands of
 * range answers pass through it, and the agent's peak RSS for a 1 GiB image followed it: 103
 * MiB against 87 with the young generation capped when node starts (BENCHMARKS.md). The
 * growth factor is read each time V8 would grow it, so the agent can turn it off itself,
 * whatever flags started it: the young generation then stays at its first size.
 */
let youngGenerationHeld = false;
function holdYoungGeneration(): void {
  if (youngGenerationHeld) return;
  setFlagsFromString('--semi-space-growth-factor=1');
  youngGenerationHeld = true;
}

export async function fetchUpdate(
  settings: AgentSettings,
  target: UpdateTarget,
  options: { agent?: HttpAgent; log?: (line: string) => void } = {},
): Promise<{ delivery: Delivery; note: string | null }> {
  holdYoungGeneration();
  const log = options.log ?? (() => {});
  const paths = deltaPaths(settings.dataDir, target.sha256);
  let note: string | null = null;
  // Without a seed there is nothing to build from: not even the index is worth fetching.
  const seedAtHand = existsSync(installedPaths(settings.dataDir).artifact) || (settings.source !== null && existsSync(settings.source));
  if (settings.enabled && target.chunkIndex && target.chunkPack && seedAtHand && !existsSync(paths.noDelta)) {
    try {
      const result = await deltaDownload(
        {
          indexUrl: new URL(`/api/v1/releases/${encodeURIComponent(target.release)}/chunk-index`, settings.server).toString(),
          packUrl: new URL(`/api/v1/releases/${encodeURIComponent(target.release)}/chunk-pack`, settings.server).toString(),
          server: settings.server,
          token: settings.token,
          size: target.size,
          sha256: target.sha256,
          chunkIndex: target.chunkIndex,
          chunkPack: target.chunkPack,
          dataDir: settings.dataDir,
        },
        (index) => chooseSeed(settings, index.parameters),
        log,
      );
      log(
        `delta: ${result.bytesDownloaded} of ${target.size} bytes downloaded in ${result.requests} range request(s), ${result.bytesReused} reused`,
      );
      return { delivery: { method: 'delta', bytesDownloaded: result.bytesDownloaded, bytesFull: target.size }, note: null };
    } catch (error) {
      // The network's failures are retried (by delta, resuming); anything else is the delta's
      // own failure, and the full download takes over from the verified bytes written so far.
      if (!(error instanceof DeltaUnusable)) throw error;
      note = `delta unusable (${error.code}: ${error.message}); downloaded the whole artifact`;
      log(note);
      writeFileSync(paths.noDelta, `${error.code}: ${error.message}\n`);
    }
  }
  const before = previousDelivery(paths.delivery);
  const result = await download(
    {
      url: target.artifactUrl,
      server: settings.server,
      token: settings.token,
      size: target.size,
      sha256: target.sha256,
      path: paths.partial,
    },
    { agent: options.agent },
  );
  // What this download fetched, plus what an earlier delta attempt did (a restart keeps the count).
  const bytesDownloaded = before + target.size - result.resumedFrom;
  return { delivery: { method: 'full', bytesDownloaded, bytesFull: target.size }, note };
}

function previousDelivery(path: string): number {
  try {
    const value = (JSON.parse(readFileSync(path, 'utf8')) as { bytesDownloaded?: unknown }).bytesDownloaded;
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
  } catch {
    return 0;
  }
}

/** The kept artifact (by its own index when the chunk sizes agree, else chunked), else the configured source. */
async function chooseSeed(settings: AgentSettings, parameters: ChunkingParameters): Promise<Seed | null> {
  const installed = installedPaths(settings.dataDir);
  if (existsSync(installed.artifact)) {
    const record = readRecord(installed.record);
    const seed =
      record?.chunkIndexSha256 && sameParameters(record.parameters, parameters)
        ? seedFromIndex(installed.artifact, installed.index, record.chunkIndexSha256)
        : null;
    if (seed) return seed;
    const chunked = await seedByChunking(installed.artifact, parameters);
    if (chunked) return chunked;
  }
  return settings.source ? seedOfSource(settings.source, parameters, sourcePaths(settings.dataDir)) : null;
}

/**
 * While idle: when the next update's seed would be the running image, its chunks are cut now
 * (with the chunk sizes `release sign` uses by default) and remembered, so the update does not
 * start by reading the whole image (0.6 s of CPU for 256 MiB, BENCHMARKS.md). Nothing is done
 * when an artifact is kept, delta is off, or the cut is already remembered.
 */
export async function prepareSeed(settings: AgentSettings): Promise<void> {
  if (!settings.enabled || settings.source === null || existsSync(installedPaths(settings.dataDir).artifact)) return;
  await rememberSourceCut(settings.source, defaultChunking, sourcePaths(settings.dataDir));
}

interface InstalledRecord {
  sha256: string;
  size: number;
  chunkIndexSha256: string | null;
  parameters: ChunkIndex['parameters'] | null;
}

function readRecord(path: string): InstalledRecord | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as InstalledRecord;
  } catch {
    return null;
  }
}

/** The delta's leftovers of an update that ended. */
export function removeDeltaFiles(dataDir: string, sha256: string): void {
  const paths = deltaPaths(dataDir, sha256);
  for (const path of [paths.index, paths.delivery, paths.noDelta]) rmSync(path, { force: true });
}

/**
 * After a commit: the installed artifact (and its verified index) is kept as the next update's
 * seed, replacing the previous one. Renames, not copies; the record goes first and comes back
 * last, so a crash in between leaves an artifact that is chunked again rather than believed.
 */
export function keepInstalled(dataDir: string, stagedPath: string, sha256: string, size: number): void {
  if (!existsSync(stagedPath)) return;
  const installed = installedPaths(dataDir);
  const delta = deltaPaths(dataDir, sha256);
  mkdirSync(installed.directory, { recursive: true });
  rmSync(installed.record, { force: true });
  renameSync(stagedPath, installed.artifact);
  let record: InstalledRecord = { sha256, size, chunkIndexSha256: null, parameters: null };
  rmSync(installed.index, { force: true });
  if (existsSync(delta.index)) {
    const bytes = readFileSync(delta.index);
    try {
      const index = parseChunkIndex(bytes, size);
      renameSync(delta.index, installed.index);
      record = { ...record, chunkIndexSha256: createHash('sha256').update(bytes).digest('hex'), parameters: index.parameters };
    } catch {
      /* an index that does not describe the artifact is not kept */
    }
  }
  writeFileSync(installed.record, JSON.stringify(record));
}
