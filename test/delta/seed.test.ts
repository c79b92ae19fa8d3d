// The running image's cut, remembered (client/delta/seed.ts, `seedOfSource`): made once and
// recalled while the file is the same file with the same chunk sizes, made again when it is not
// (or when the remembered keys are damaged), and made ahead by an idle agent
// (`prepareSeed`) only when the running image would be the next update's seed.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultChunking } from '../../signing/chunking.js';
import { buildChunkIndex, parseChunkIndex, type ChunkIndex } from '../../signing/chunk-index.js';
import { rememberSourceCut, seedByChunking, seedOfSource, type Seed } from '../../client/delta/seed.js';
import { sourcePaths, installedPaths } from '../../client/delta/paths.js';
import { prepareSeed } from '../../client/delta/fetch-update.js';

const directory = mkdtempSync(join(tmpdir(), 'sluice-seed-'));
t.teardown(() => rmSync(directory, { recursive: true, force: true }));

/** For each chunk of `index`, where the seed has it (-1: nowhere): what a plan is made of. */
const found = (seed: Seed | null, index: ChunkIndex) => Array.from({ length: index.count }, (_, chunk) => seed?.find(index, chunk) ?? -2);

/** A new directory with `source.bin` (1 MiB of noise), the index of those bytes, and where the cut is remembered. */
async function setUp(name: string) {
  const home = join(directory, name);
  mkdirSync(home);
  const source = join(home, 'source.bin');
  const bytes = randomBytes(1024 * 1024);
  writeFileSync(source, bytes);
  utimesSync(source, setTime, setTime);
  const index = parseChunkIndex((await buildChunkIndex(source)).index);
  return { home, source, bytes, index, remembered: sourcePaths(home) };
}

/** The file's bytes changed in place, its size, inode and modification time kept: only a remembered cut still believes the old ones. */
function changeInPlace(path: string, bytes: Buffer): void {
  const changed = Buffer.from(bytes);
  randomBytes(64 * 1024).copy(changed, 300 * 1024);
  writeFileSync(path, changed);
  utimesSync(path, setTime, setTime);
}
/** Whole seconds: a time read from the file and set back would lose its nanoseconds. */
const setTime = 1_790_000_000;

t.test('the first cut is the plain cut and is remembered; the same file is not read again', async (t) => {
  const { source, bytes, index, remembered } = await setUp('recalled');
  const first = await seedOfSource(source, defaultChunking, remembered);
  t.same(found(first, index), found(await seedByChunking(source, defaultChunking), index), 'the same seed as cutting it');
  t.ok(
    found(first, index).every((at) => at >= 0),
    'every chunk of its own index is found',
  );
  t.ok(existsSync(remembered.keys) && existsSync(remembered.record), 'the keys and their record are kept');
  t.equal(JSON.parse(readFileSync(remembered.record, 'utf8')).path, source);

  changeInPlace(source, bytes);
  const again = await seedOfSource(source, defaultChunking, remembered);
  t.same(found(again, index), found(first, index), 'recalled: the old bytes are still believed');
  t.same(Array.from(again!.offsets), Array.from(first!.offsets), 'with the same offsets');
  t.same(Array.from(again!.lengths), Array.from(first!.lengths), 'and lengths');
});

// Each row: what differs from the remembered cut, and so makes the file be cut again.
const changes: [string, (setting: Awaited<ReturnType<typeof setUp>>) => { path?: string; parameters?: typeof defaultChunking }][] = [
  ['the modification time', ({ source }) => (utimesSync(source, new Date(), new Date(Date.now() + 5000)), {})],
  ['the size', ({ source, bytes }) => (writeFileSync(source, Buffer.concat([bytes, randomBytes(10)])), {})],
  ['the chunk sizes', () => ({ parameters: { minSize: 2048, averageSize: 8192, maxSize: 32768 } })],
  [
    'the keys, damaged',
    ({ remembered }) => {
      const keys = readFileSync(remembered.keys);
      keys[keys.length - 1] ^= 1;
      writeFileSync(remembered.keys, keys);
      return {};
    },
  ],
  ['the keys, gone', ({ remembered }) => (rmSync(remembered.keys), {})],
  ['the record, not JSON', ({ remembered }) => (writeFileSync(remembered.record, '{'), {})],
  [
    'the file, another one',
    ({ home, source }) => {
      const other = join(home, 'other.bin');
      writeFileSync(other, readFileSync(source));
      return { path: other };
    },
  ],
];
for (const [what, change] of changes) {
  t.test(`cut again when ${what} changed`, async (t) => {
    const setting = await setUp(what.replace(/\W+/g, '-'));
    await seedOfSource(setting.source, defaultChunking, setting.remembered);
    changeInPlace(setting.source, setting.bytes);
    const { path = setting.source, parameters = defaultChunking } = change(setting);
    const now = parseChunkIndex((await buildChunkIndex(path, { parameters })).index);
    const seed = await seedOfSource(path, parameters, setting.remembered);
    t.same(found(seed, now), found(await seedByChunking(path, parameters), now), "the file's bytes as they are now");
    t.ok(
      found(seed, now).every((at) => at >= 0),
      'all of them found',
    );
  });
}

t.test('not a regular file, or none: no seed and nothing remembered', async (t) => {
  const { home, remembered } = await setUp('none');
  t.equal(await seedOfSource(join(home, 'missing.bin'), defaultChunking, remembered), null);
  t.equal(await seedOfSource(home, defaultChunking, remembered), null, 'a directory');
  await rememberSourceCut(join(home, 'missing.bin'), defaultChunking, remembered);
  t.notOk(existsSync(remembered.record));
});

t.test('an idle agent cuts its running image ahead, once, and only when that image would be the seed', async (t) => {
  const { home, source, bytes, index, remembered } = await setUp('prepared');
  const settings = { server: 'http://127.0.0.1:9', token: 'unused', dataDir: home, source, enabled: true };
  await prepareSeed({ ...settings, enabled: false });
  t.notOk(existsSync(remembered.record), 'delta off: nothing');
  await prepareSeed({ ...settings, source: null });
  t.notOk(existsSync(remembered.record), 'no running image configured: nothing');
  const installed = installedPaths(home);
  mkdirSync(installed.directory, { recursive: true });
  writeFileSync(installed.artifact, bytes);
  await prepareSeed(settings);
  t.notOk(existsSync(remembered.record), 'an artifact is kept, and it is the seed: nothing');
  rmSync(installed.directory, { recursive: true });

  await prepareSeed(settings);
  t.ok(existsSync(remembered.record), 'cut and remembered');
  const recordWritten = statSync(remembered.record).mtimeMs;
  changeInPlace(source, bytes);
  await prepareSeed(settings);
  t.equal(statSync(remembered.record).mtimeMs, recordWritten, 'the next idle poll reads the record only');
  const seed = await seedOfSource(source, index.parameters, remembered);
  t.ok(
    found(seed, index).every((at) => at >= 0),
    "the update's seed is the cut made ahead (the old bytes)",
  );
});
