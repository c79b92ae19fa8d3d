// The `sluice` CLI that tests start in child processes: the built form (`npm run build`'s, the
// one production runs), built once per version of the sources. Under tsx every child spent
// about 0.45 s more CPU compiling and resolving TypeScript before doing anything (measured:
// `release --help` 0.62 s user under tsx, 0.19 s built), and the suite starts several hundred
// children on a two-core CI machine. The source entry (bin/sluice.js) stays tested where a
// user meets it: the README's session and the quick start.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { cliBuildOptions } from '../../build/server.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const sourceFolders = ['cli', 'server', 'client', 'signing', 'protocol', 'fixtures'];

function sourceFiles(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) found.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts')) found.push(path);
  }
  return found;
}

/** A digest of everything the bundle is made of, so an edited source never runs stale. */
function sourcesDigest(): string {
  const hash = createHash('sha256');
  const files = sourceFolders.flatMap((folder) => sourceFiles(join(root, folder))).sort();
  for (const file of [...files, join(root, 'package.json'), join(root, 'build', 'server.mjs')]) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The path of the built CLI's entry for the current sources. Test files run side by side, so
 * each builds into a directory of its own and renames it into place: a reader never sees a
 * half-written bundle, and a loser of the race discards its copy.
 */
export async function builtSluice(): Promise<string> {
  const directory = join(root, 'dist', 'test-cli', sourcesDigest());
  const entry = join(directory, 'sluice.mjs');
  if (existsSync(entry)) return entry;
  const staging = `${directory}.${process.pid}.${randomBytes(4).toString('hex')}`;
  mkdirSync(join(root, 'dist', 'test-cli'), { recursive: true });
  await build(cliBuildOptions(staging));
  try {
    renameSync(staging, directory);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(entry)) throw error;
  }
  removeOldBuilds(directory);
  return entry;
}

/** Builds of older sources, an hour untouched: no test file can still be using them. */
function removeOldBuilds(keep: string): void {
  const parent = join(root, 'dist', 'test-cli');
  for (const name of readdirSync(parent)) {
    const path = join(parent, name);
    if (path === keep) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another test file removed it first.
    }
  }
}
