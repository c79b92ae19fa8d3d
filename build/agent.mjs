// `npm run build:agent`: bundles the device agent (cli/agent-bundle.ts) with esbuild into
// dist/sluice-agent.mjs, one file that plain node ≥ 20 runs. The benchmark bundles its
// download child with the same options, so it measures what a device runs.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

export async function bundle(entry, outfile) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    // Bundled CommonJS dependencies (undici, semver) call require() for node's built-ins.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundle(`${root}cli/agent-bundle.ts`, `${root}dist/sluice-agent.mjs`);
  process.stdout.write('wrote dist/sluice-agent.mjs\n');
}
