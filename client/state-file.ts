// The agent's persistent state: the device (running version, active slot) and the journal,
// in ONE file written atomically (temporary file, fsync, rename, fsync of the directory).
// The commit is one write: the new version and the journal's "committed" land together
// (STYLE.md, Mender), so no instant exists where one is true and the other is not.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AgentState } from './states.js';
import type { SignedDocument } from '../signing/signed.js';

export interface JournalAssignment {
  id: string;
  release: string;
  version: string;
  manifest: SignedDocument<unknown>;
  artifactUrl: string;
  sha256: string;
  size: number;
  downgrade: boolean;
}

/** How the last update attempt ended, kept until the next one ends (`sluice agent status`). */
export interface LastUpdate {
  release: string;
  version: string;
  outcome: 'committed' | 'rolled_back' | 'failed';
  at: string;
  /** Why it did not commit (the error code and message), null on a commit. */
  detail: string | null;
  /** The version the device runs after it. */
  runningVersion: string;
}

export interface AgentStateFile {
  format: 1;
  device: { version: string; activeSlot: 'a' | 'b' };
  /** Absent until an update has ended on this device. */
  lastUpdate?: LastUpdate;
  journal: {
    state: AgentState;
    assignment: JournalAssignment | null;
    /** The slot and version to return to if the new one fails its health check. */
    previous: { version: string; slot: 'a' | 'b' } | null;
    /** How many times each state was entered for this assignment (loop counter). */
    attempts: Partial<Record<AgentState, number>>;
    detail: string | null;
    /** Random id of this update attempt: event ids derive from it, so a re-sent report keeps its id. */
    run: string | null;
    updatedAt: string;
  };
}

export function writeFileAtomically(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  const descriptor = openSync(temporary, 'w', 0o600);
  try {
    writeSync(descriptor, content);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  renameSync(temporary, path);
  // The rename itself is durable only once the directory entry is flushed.
  const directory = openSync(dirname(path), 'r');
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
}

export const stateFilePath = (dataDir: string) => join(dataDir, 'state.json');

export function readStateFile(dataDir: string, initialVersion: string): AgentStateFile {
  try {
    return JSON.parse(readFileSync(stateFilePath(dataDir), 'utf8')) as AgentStateFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return {
      format: 1,
      device: { version: initialVersion, activeSlot: 'a' },
      journal: {
        state: 'idle',
        assignment: null,
        previous: null,
        attempts: {},
        detail: null,
        run: null,
        updatedAt: new Date(0).toISOString(),
      },
    };
  }
}

export function writeStateFile(dataDir: string, state: AgentStateFile): void {
  writeFileAtomically(stateFilePath(dataDir), `${JSON.stringify(state, null, 2)}\n`);
}
