// Socket reads arrive as fresh 64 KiB buffers that are garbage as soon as they are hashed and
// written. V8 frees them only when its young generation fills or when dead external memory
// passes its own limit (tens of MiB), so a 512 MiB download carried 20-35 MiB of dead
// buffers: the agent peaked at 87 MiB of RSS against a budget of 80 (BENCHMARKS.md).
// A young-generation collection every few MiB frees them for well under a millisecond each.
// The server's upload ingest (server/storage/artifact-store.ts) streams the same way and
// uses it too: a 1 GiB upload peaked 27 MiB above the idle server, now 3 MiB.
//
// The collector is reached through V8's own flag rather than by asking every device to start
// node with --expose-gc; `global.gc` stays undefined for everything else in the process.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = (options: { type: 'minor' | 'major' }) => void;
let collect: Collect | null | undefined;

function collector(): Collect | null {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = (runInNewContext('gc') as Collect | undefined) ?? null;
  }
  return collect;
}

export function collectYoungGarbage(): void {
  collector()?.({ type: 'minor' });
}

/**
 * A full collection, for the rare moment a large structure that lived long (and so sits in
 * the old generation, where a young collection does not look) has just become garbage.
 */
export function collectAllGarbage(): void {
  collector()?.({ type: 'major' });
}

/** Calls collectYoungGarbage once every `bytes` counted, for a loop that streams data. */
export function garbageCollectorEvery(bytes: number, collect: () => void = collectYoungGarbage): (counted: number) => void {
  let since = 0;
  return (counted) => {
    since += counted;
    if (since < bytes) return;
    since = 0;
    collect();
  };
}
