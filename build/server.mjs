// `npm run build`: the whole `sluice` CLI (server included) as plain JavaScript in
// dist/server/, which plain node runs without the tsx loader. Measured on the idle server:
// 162 MiB of RSS under tsx, 130 MiB built (BENCHMARKS.md). Dependencies stay in
// node_modules (better-sqlite3 is native, swagger-ui serves its files from its package), and
// each verb is a chunk of its own, loaded only when used, as under tsx.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const serverEntry = `${root}dist/server/sluice.mjs`;

/** esbuild's options for the CLI bundled into `outdir` (the tests build it the same way). */
export function cliBuildOptions(outdir) {
  return {
    entryPoints: { sluice: `${root}cli/run.ts` },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  };
}

export async function buildServer() {
  rmSync(`${root}dist/server`, { recursive: true, force: true });
  await build(cliBuildOptions(`${root}dist/server`));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildServer();
  process.stdout.write(`wrote ${serverEntry}\n`);
}
