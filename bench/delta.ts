// Delta updates (issue 19; BENCHMARKS.md, "Delta updates"), one run:
//   node --import tsx bench/delta.ts [SIZE_MIB]        (default 256; the peers need the Debian
//   packages xdelta3, bsdiff, casync and zstd: apt-get install -y xdelta3 bsdiff casync zstd)
// For the ext4 pair and the compressed pair of fixtures/delta-images.ts: the bytes a device
// fetches with sluice's delta (chunk index included) against the patches of xdelta3,
// `zstd --patch-from`, bsdiff and casync's chunk store for the same pair, the full image for
// scale; then the agent (bundled, own process) rebuilding and verifying by delta against a
// full download and verification in the same run, over loopback, with its peak RSS; and the
// agent's peak RSS on a 1 GiB image, in the environment of docs/agent.md's unit and with glibc's
// defaults. Each run's CPU time is reported beside its wall time; each way of updating runs
// SLUICE_BENCH_DELTA_ROUNDS times (3), alternating, and is reported by its median and range;
// SLUICE_BENCH_CHILD_FLAGS passes node flags to the agent's process (e.g. --cpu-prof).
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import {
  closeSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../server/app.js';
import { buildDeltaImages } from '../fixtures/delta-images.js';
import { buildChunkIndex, parseChunkIndex } from '../signing/chunk-index.js';
import { defaultChunking } from '../signing/chunking.js';
import { writeChunkPack } from '../signing/chunk-pack-file.js';
import { loadPrivateKeyFile } from '../signing/keys.js';
import { createManifest } from '../signing/manifest.js';
import { signDocument } from '../signing/signed.js';
import { publishRelease } from '../cli/release-publish.js';
import { planOperations, bytesToFetch } from '../client/delta/plan.js';
import { rememberSourceCut, seedByChunking } from '../client/delta/seed.js';
import { sourcePaths } from '../client/delta/paths.js';
import { root, startProcess } from './processes.js';
// @ts-expect-error: plain JavaScript build script without type declarations
import { bundle } from '../build/agent.mjs';

const sizeMiB = Number(process.argv[2] ?? 256);
const work = mkdtempSync(join(tmpdir(), 'sluice-bench-delta-'));
const mib = (bytes: number) => (bytes / 1048576).toFixed(2);
/** SLUICE_BENCH_DELTA_ROUNDS: how many times each way of updating runs on each pair. */
const rounds = Math.max(1, Number(process.env.SLUICE_BENCH_DELTA_ROUNDS ?? 3));
/** `values`' median, and their range when there are several. */
function spread(values: number[], unit: string, digits = 2): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const range = sorted.length > 1 ? ` (${sorted[0].toFixed(digits)}–${sorted.at(-1)!.toFixed(digits)})` : '';
  return `${median.toFixed(digits)}${unit}${range}`;
}
const percent = (part: number, whole: number) => `${((part / whole) * 100).toFixed(2)} %`;

/** A peer's patch size, or why there is none; each gets `limitSeconds`. */
function peer(
  name: string,
  command: string,
  args: string[],
  output: string,
  limitSeconds = 300,
): { name: string; bytes: number | null; seconds: number; note: string } {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: limitSeconds * 1000, maxBuffer: 1 << 24 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.error || result.status !== 0)
    return {
      name,
      bytes: null,
      seconds,
      note: result.signal ? `stopped after ${limitSeconds} s` : `failed: ${String(result.stderr ?? result.error).slice(0, 120)}`,
    };
  return { name, bytes: statSync(output).size, seconds, note: '' };
}

/** casync: the chunks of the new image's store that the old image's store lacks, compressed as casync stores them, plus the index. */
function casync(old: string, next: string): { name: string; bytes: number | null; seconds: number; note: string } {
  const directory = join(work, 'casync');
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory);
  const started = process.hrtime.bigint();
  for (const [image, name] of [
    [old, 'old'],
    [next, 'new'],
  ]) {
    const result = spawnSync('casync', ['make', `--store=${join(directory, `${name}.castr`)}`, join(directory, `${name}.caibx`), image], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 300_000,
    });
    if (result.status !== 0)
      return { name: 'casync (64 KiB chunks, zstd)', bytes: null, seconds: 0, note: `failed: ${String(result.stderr).slice(0, 120)}` };
  }
  const chunks = (store: string) =>
    new Map(
      readdirSync(store, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => [entry.name, statSync(join(entry.parentPath, entry.name)).size]),
    );
  const have = chunks(join(directory, 'old.castr'));
  let bytes = statSync(join(directory, 'new.caibx')).size;
  for (const [name, size] of chunks(join(directory, 'new.castr'))) if (!have.has(name)) bytes += size;
  return { name: 'casync (64 KiB chunks, zstd)', bytes, seconds: Number(process.hrtime.bigint() - started) / 1e9, note: '' };
}

function peers(old: string, next: string) {
  const out = (name: string) => join(work, `patch.${name}`);
  return [
    peer('xdelta3 -9 -D', 'xdelta3', ['-e', '-9', '-D', '-f', '-s', old, next, out('xdelta')], out('xdelta')),
    peer(
      'zstd -19 --long=28 --patch-from',
      'zstd',
      ['-q', '-f', '-19', '--long=28', `--patch-from=${old}`, next, '-o', out('zstd')],
      out('zstd'),
    ),
    peer('bsdiff', 'bsdiff', [old, next, out('bsdiff')], out('bsdiff'), 240),
    casync(old, next),
  ];
}

async function startServer() {
  const dataDir = join(work, 'server');
  const app = await buildApp({ dataDir, logger: false } as never);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  const call = async (method: string, path: string, body: unknown) => {
    const response = await app.inject({
      method: method as 'POST',
      url: path,
      headers: { authorization: `Bearer ${admin}` },
      payload: body as object,
    });
    if (response.statusCode >= 300) throw new Error(`${path}: ${response.body}`);
    return response.json();
  };
  await call('POST', '/api/v1/products', { id: 'emu', name: 'EMU' });
  const release = (await call('POST', '/api/v1/users', { username: 'releaser', role: 'release' })).token as string;
  const support = (await call('POST', '/api/v1/users', { username: 'watcher', role: 'support' })).token as string;
  return { app, url, dataDir, release, support };
}

type Server = Awaited<ReturnType<typeof startServer>>;

/** Signs (timed: the index is made here) and publishes `image` as `version`. */
async function publish(server: Server, image: string, version: string) {
  const started = process.hrtime.bigint();
  const packPath = join(work, `${version}.pack`);
  const built = await writeChunkPack(image, packPath);
  const signSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const indexPath = join(work, `${version}.chunks`);
  writeFileSync(indexPath, built.index);
  const manifest = createManifest({
    product: 'emu',
    version,
    hardware: ['emu-hw-1'],
    artifact: { name: `emu-${version}.img`, size: built.size, sha256: built.sha256 },
    chunkIndex: { sha256: createHash('sha256').update(built.index).digest('hex'), size: built.index.length },
    chunkPack: built.pack,
  });
  const manifestPath = join(work, `${version}.json`);
  writeFileSync(manifestPath, JSON.stringify(signDocument(manifest, [loadPrivateKeyFile(join(server.dataDir, 'keys', 'release.key'))])));
  const answer = JSON.parse(
    await publishRelease({
      artifactPath: image,
      manifestPath,
      chunkIndexPath: indexPath,
      chunkPackPath: built.packFile ?? undefined,
      server: server.url,
      token: server.release,
    }),
  ) as { id: string };
  // Publishing computes the DDI clients' SHA-1 and MD5 in the background: not during the timed runs.
  for (let waited = 0; !(await server.app.sluice.store.releases.get(answer.id))?.sha1 && waited < 600; waited++)
    await new Promise((resolve) => setTimeout(resolve, 100));
  rmSync(packPath, { force: true });
  return { id: answer.id, size: built.size, sha256: built.sha256, index: manifest.chunkIndex!, pack: built.pack, signSeconds };
}

/** The agent's kept copy of what it installed last, with that release's verified index: the steady state after a first update. */
async function keep(dataDir: string, image: string) {
  const built = await buildChunkIndex(image);
  const installed = join(dataDir, 'installed');
  mkdirSync(installed, { recursive: true });
  linkSync(image, join(installed, 'artifact.bin'));
  writeFileSync(join(installed, 'artifact.chunks'), built.index);
  writeFileSync(
    join(installed, 'artifact.json'),
    JSON.stringify({
      sha256: built.sha256,
      size: built.size,
      chunkIndexSha256: createHash('sha256').update(built.index).digest('hex'),
      parameters: parseChunkIndex(built.index).parameters,
    }),
  );
}

/**
 * The environment docs/agent.md's systemd unit gives the agent: one malloc arena, where glibc
 * gives each thread that allocates its own (node's and V8's threads), and the memory freed in
 * one is not reused by another (BENCHMARKS.md, "Delta updates").
 */
const unitEnvironment: NodeJS.ProcessEnv = { MALLOC_ARENA_MAX: '1' };
/** glibc's defaults (a value left undefined is not passed on). */
const glibcDefaults: NodeJS.ProcessEnv = { MALLOC_ARENA_MAX: undefined };

async function agent(
  child: string,
  server: Server,
  release: Awaited<ReturnType<typeof publish>>,
  mode: 'delta' | 'full',
  seed: string,
  /**
   * kept: the image kept as the last installed artifact, with its index; cutAhead: the running
   * image `seed` was cut while the agent was idle (fetch-update.ts, `prepareSeed`), here before
   * the agent starts, in the bench's own process.
   */
  before: { kept?: string; cutAhead?: boolean; environment?: NodeJS.ProcessEnv } = {},
) {
  const { kept, cutAhead = false, environment = unitEnvironment } = before;
  const dataDir = join(work, `agent-${mode}-${release.id}`);
  rmSync(dataDir, { recursive: true, force: true });
  if (kept) await keep(dataDir, kept);
  if (cutAhead) await rememberSourceCut(seed, defaultChunking, sourcePaths(dataDir));
  const started = await startProcess(
    process.execPath,
    [
      // Node flags for the agent's process (e.g. --cpu-prof), to look into a run.
      ...(process.env.SLUICE_BENCH_CHILD_FLAGS?.split(' ').filter(Boolean) ?? []),
      child,
      mode,
      server.url,
      release.id,
      `${server.url}/api/v1/releases/${release.id}/artifact`,
      server.support,
      String(release.size),
      release.sha256,
      release.index.sha256,
      String(release.index.size),
      release.pack.sha256,
      String(release.pack.size),
      dataDir,
      seed,
    ],
    /\{.*\}/,
    { timeoutMs: 600_000, env: environment },
  );
  await started.stop();
  rmSync(dataDir, { recursive: true, force: true });
  // Where the time went, for whoever reads the console (the report keeps the totals).
  console.log(
    `  ${mode}${kept ? ' (kept seed)' : cutAhead ? ' (cut ahead)' : ''}: ${(JSON.parse(started.match[0]) as { phases: string[] }).phases.join(' | ')}`,
  );
  return JSON.parse(started.match[0]) as {
    seconds: number;
    cpuSeconds: number;
    peakRssMiB: number;
    method: string;
    bytesDownloaded: number;
    note: string | null;
  };
}

/** 1 GiB of noise and a copy with 3 % of its 4 KiB blocks rewritten, for the memory reading. */
function gibibytePair(): { old: string; next: string } {
  const old = join(work, 'gib-old.img');
  const next = join(work, 'gib-new.img');
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 1), Buffer.alloc(16, 2));
  const changes = createCipheriv('aes-128-ctr', Buffer.alloc(16, 3), Buffer.alloc(16, 4));
  const a = openSync(old, 'w');
  const b = openSync(next, 'w');
  const zero = Buffer.alloc(1 << 20);
  for (let block = 0; block < 1024; block++) {
    const data = cipher.update(zero);
    writeSync(a, data);
    const changed = Buffer.from(data);
    for (let at = 0; at < changed.length; at += 4096)
      if (changes.update(Buffer.alloc(1))[0] < 8) changes.update(zero.subarray(0, 4096)).copy(changed, at);
    writeSync(b, changed);
  }
  closeSync(a);
  closeSync(b);
  return { old, next };
}

class Skip extends Error {}
const report: string[] = [];
const line = (text = '') => {
  report.push(text);
  console.log(text);
};

const images = await buildDeltaImages(sizeMiB);
line(
  `# Delta updates, ${sizeMiB} MiB images (${images.files.old} files; ${images.files.changed} changed, ${images.files.added} added, ${images.files.removed} removed)`,
);
const child = join(work, 'delta-child.mjs');
await bundle(join(root, 'bench', 'delta-child.ts'), child);
const server = await startServer();
try {
  for (const [label, pair] of process.env.SLUICE_BENCH_DELTA_ONLY === 'gib'
    ? []
    : ([
        ['ext4', images.ext4],
        ['ext4.gz (compressed)', images.compressed],
      ] as const)) {
    const full = statSync(pair.new).size;
    const release = await publish(server, pair.new, label.startsWith('ext4.gz') ? '2.1.1' : '2.1.0');
    // What the delta fetches, from the plan alone (the agent's run below fetches the same).
    const index = parseChunkIndex(readFileSync(join(work, `${label.startsWith('ext4.gz') ? '2.1.1' : '2.1.0'}.chunks`)), full);
    const operations = planOperations(index, await seedByChunking(pair.old, index.parameters));
    const ranges = operations.filter((operation) => operation.kind === 'fetch').length;
    const deltaBytes = bytesToFetch(operations) + release.index.size;
    line();
    line(
      `## ${label}: ${mib(full)} MiB new image, index ${mib(release.index.size)} MiB (${index.count} chunks), pack ${mib(release.pack.size)} MiB, signing with the index and pack ${release.signSeconds.toFixed(2)} s`,
    );
    line('| method | bytes to the device | of the full image | vs sluice | to make |');
    line('| --- | ---: | ---: | ---: | ---: |');
    line(`| full image | ${mib(full)} MiB | 100 % | | |`);
    line(
      `| sluice delta (index + ${ranges} ranges of the pack) | ${mib(deltaBytes)} MiB | ${percent(deltaBytes, full)} | 1.00× | ${release.signSeconds.toFixed(1)} s, once per release |`,
    );
    for (const result of process.env.SLUICE_BENCH_DELTA_PEERS === '0' ? [] : peers(pair.old, pair.new)) {
      line(
        result.bytes === null
          ? `| ${result.name} | — | — | — | ${result.note} |`
          : `| ${result.name} | ${mib(result.bytes)} MiB | ${percent(result.bytes, full)} | ${(result.bytes / deltaBytes).toFixed(2)}× | ${result.seconds.toFixed(1)} s, per pair |`,
      );
    }
    // Rounds, alternating, of each way: which of two ways at parity wins one run is noise, so the
    // report gives each one's median and range.
    const ways = [
      ['delta, seed = running image (chunked on the device)', () => agent(child, server, release, 'delta', pair.old)],
      [
        'delta, seed = running image, cut ahead while the agent was idle',
        () => agent(child, server, release, 'delta', pair.old, { cutAhead: true }),
      ],
      ['delta, seed = kept last artifact with its index', () => agent(child, server, release, 'delta', '', { kept: pair.old })],
      ['full download', () => agent(child, server, release, 'full', '')],
    ] as const;
    const runs = new Map<string, Awaited<ReturnType<typeof agent>>[]>(ways.map(([name]) => [name, []]));
    for (let round = 0; round < rounds; round++) for (const [name, run] of ways) runs.get(name)!.push(await run());
    line();
    line(`Agent, ${label} (own process, loopback, ${runs.get(ways[0][0])![0].method}; median and range of ${rounds} rounds):`);
    line('| run | wall time | CPU time | peak RSS | fetched |');
    line('| --- | ---: | ---: | ---: | ---: |');
    for (const [name, each] of runs)
      line(
        `| ${name} | ${spread(
          each.map((run) => run.seconds),
          ' s',
        )} | ${spread(
          each.map((run) => run.cpuSeconds),
          ' s',
        )} | ${spread(
          each.map((run) => run.peakRssMiB),
          ' MiB',
          1,
        )} | ${mib(each[0].bytesDownloaded)} MiB |`,
      );
  }
  // SLUICE_BENCH_DELTA_GIB=0 skips it (a quick check of the script itself).
  if (process.env.SLUICE_BENCH_DELTA_GIB === '0') throw new Skip();
  const gib = gibibytePair();
  const release = await publish(server, gib.next, '3.0.0');
  // Three rounds, alternating, of each: one run's peak moves by a few MiB.
  const runs: { environment: string; run: Awaited<ReturnType<typeof agent>> }[] = [];
  for (let round = 0; round < 3; round++) {
    runs.push({ environment: "the unit's (MALLOC_ARENA_MAX=1)", run: await agent(child, server, release, 'delta', gib.old) });
    runs.push({
      environment: "glibc's defaults",
      run: await agent(child, server, release, 'delta', gib.old, { environment: glibcDefaults }),
    });
    runs.push({
      environment: "the unit's, the running image cut ahead while idle",
      run: await agent(child, server, release, 'delta', gib.old, { cutAhead: true }),
    });
  }
  line();
  line('Agent, 1 GiB image with 3 % of its 4 KiB blocks rewritten (seed = running image, chunked on the device unless cut ahead):');
  line('| environment | wall time | CPU time | peak RSS | fetched |');
  line('| --- | ---: | ---: | ---: | ---: |');
  for (const { environment, run } of runs)
    line(
      `| ${environment} | ${run.seconds.toFixed(2)} s | ${run.cpuSeconds.toFixed(2)} s | ${run.peakRssMiB.toFixed(1)} MiB | ${mib(run.bytesDownloaded)} MiB (${run.method}) |`,
    );
} catch (error) {
  if (!(error instanceof Skip)) throw error;
} finally {
  await server.app.close();
  if (process.env.SLUICE_BENCH_DELTA_ONLY !== 'gib') writeFileSync(join(root, 'bench', 'delta-last-run.md'), `${report.join('\n')}\n`);
  rmSync(work, { recursive: true, force: true });
}
