// `sluice keys init` and `sluice release sign` as a release engineer runs them: the real bin
// in a child process, the results checked with the TrustStore a device uses.
import t from 'tap';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, keyIdOf, loadPrivateKeyFile, writePrivateKeyFile } from '../../signing/keys.js';
import { createRoot } from '../../signing/root.js';
import { signDocument } from '../../signing/signed.js';
import { TrustStore } from '../../signing/trust-store.js';
import { initKeys } from '../../cli/keys.js';
import { SignatureError } from '../../signing/errors.js';
import { sluiceBin } from '../helpers/processes.js';

const bin = sluiceBin;

function sluice(args: string[], nodeArgs: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeArgs, bin, ...args],
      { timeout: 120_000, env: { ...process.env, SLUICE_DEBUG: '' } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

const work = mkdtempSync(join(tmpdir(), 'sluice-keys-sign-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
// Keys for the signing tests, made in-process by the function the server bootstraps with, so
// that each test stands alone; the first test makes its own through the bin.
const keys = join(work, 'keys');
initKeys(keys);
const artifact = join(work, 'emu-2.1.0.img');
const artifactBytes = randomBytes(2 * 1024 * 1024 + 3);
writeFileSync(artifact, artifactBytes);
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const now = () => new Date();

t.test('keys init writes a verifying root.json and three private keys of mode 0600', async (t) => {
  const fresh = join(work, 'fresh', 'keys');
  const result = await sluice(['keys', 'init', '--out', fresh]);
  t.equal(result.code, 0, result.stderr);
  const store = TrustStore.fromPinnedRoot(readJson(join(fresh, 'root.json')), now());
  t.equal(store.root.version, 1);
  const year = Date.parse(store.root.expires) - Date.now();
  t.ok(year > 364 * 86400_000 && year <= 365 * 86400_000, 'expires in one year');
  for (const role of ['root', 'release', 'server'] as const) {
    const path = join(fresh, `${role}.key`);
    t.equal(statSync(path).mode & 0o777, 0o600, `${role}.key is mode 0600`);
    t.match(readFileSync(path, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/, `${role}.key is PKCS#8 PEM`);
    t.same(
      store.root.roles[role],
      { keyids: [keyIdOf(loadPrivateKeyFile(path))], threshold: 1 },
      `root.json lists ${role}.key for the ${role} role, threshold 1`,
    );
    t.match(result.stdout, `${role}.key (mode 0600, key id ${keyIdOf(loadPrivateKeyFile(path))})`);
  }
});

t.test('keys init never overwrites', async (t) => {
  const before = ['root.json', 'root.key', 'release.key', 'server.key'].map((name) => readFileSync(join(keys, name), 'utf8'));
  const again = await sluice(['keys', 'init', '--out', keys]);
  t.equal(again.code, 1);
  t.match(again.stderr, /^sluice keys init: .*root\.json already exists; keys are never overwritten\n$/, 'one line naming the file');
  t.same(
    ['root.json', 'root.key', 'release.key', 'server.key'].map((name) => readFileSync(join(keys, name), 'utf8')),
    before,
    'nothing changed',
  );
  // A directory holding only one of the four files is refused before anything is written.
  const partial = join(work, 'partial');
  mkdirSync(partial);
  writeFileSync(join(partial, 'release.key'), 'mine');
  t.equal((await sluice(['keys', 'init', '--out', partial])).code, 1);
  t.notOk(existsSync(join(partial, 'root.key')) || existsSync(join(partial, 'root.json')), 'no new files beside it');
  t.equal(readFileSync(join(partial, 'release.key'), 'utf8'), 'mine');
  const missing = await sluice(['keys', 'init']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /--out DIR is required/);
});

t.test('release sign: a manifest the trust store accepts, bound to the artifact', async (t) => {
  const out = join(work, 'manifest.json');
  const result = await sluice([
    'release',
    'sign',
    artifact,
    '--key',
    join(keys, 'release.key'),
    '--product',
    'emu',
    '--version',
    '2.1.0',
    '--hardware',
    'emu-hw-1, emu-hw-2',
    '--fixes',
    'F-1042,F-1043',
    '--notes',
    'fixes the relay',
    '--min-version',
    '1.4.0',
    '--out',
    out,
  ]);
  t.equal(result.code, 0, result.stderr);
  const store = TrustStore.fromPinnedRoot(readJson(join(keys, 'root.json')), now());
  const manifest = store.verifyManifest(readJson(out), now());
  t.match(manifest, {
    type: 'release',
    product: 'emu',
    version: '2.1.0',
    hardware: ['emu-hw-1', 'emu-hw-2'],
    fixes: ['F-1042', 'F-1043'],
    notes: 'fixes the relay',
    minVersion: '1.4.0',
    artifact: { name: 'emu-2.1.0.img', size: artifactBytes.length, sha256: createHash('sha256').update(artifactBytes).digest('hex') },
  });
  t.equal(manifest.expires, undefined);
  t.equal(manifest.downgrade, undefined);
  t.ok(Math.abs(Date.parse(manifest.createdAt) - Date.now()) < 120_000, 'createdAt is now');

  const withExpiry = await sluice([
    'release',
    'sign',
    artifact,
    '--key',
    join(keys, 'release.key'),
    '--product',
    'emu',
    '--version',
    '1.9.0',
    '--hardware',
    'emu-hw-1',
    '--expires',
    '2020-01-01T00:00:00Z',
    '--downgrade',
    '--replaces',
    '>=2.0.0 <2.2.0',
    '--out',
    join(work, 'old.json'),
  ]);
  t.equal(withExpiry.code, 0, withExpiry.stderr);
  t.match(readJson(join(work, 'old.json')).signed, { expires: '2020-01-01T00:00:00.000Z', downgrade: true, replaces: '>=2.0.0 <2.2.0' });
  t.throws(() => store.verifyManifest(readJson(join(work, 'old.json')), now()), { code: 'expired' }, '--expires is signed and enforced');

  const byRootKey = await sluice([
    'release',
    'sign',
    artifact,
    '--key',
    join(keys, 'root.key'),
    '--product',
    'emu',
    '--version',
    '2.1.0',
    '--hardware',
    'emu-hw-1',
    '--out',
    join(work, 'wrong.json'),
  ]);
  t.equal(byRootKey.code, 0, 'the signer cannot know which role a key has');
  t.throws(
    () => store.verifyManifest(readJson(join(work, 'wrong.json')), now()),
    SignatureError,
    'but the trust store refuses a manifest signed by the root key',
  );
});

t.test('release sign with several keys meets a threshold above one', async (t) => {
  const directory = join(work, 'threshold');
  mkdirSync(directory);
  const [rootKey, first, second, server] = [0, 1, 2, 3].map(() => generateKeyPair().privateKey);
  writePrivateKeyFile(join(directory, 'first.key'), first);
  writePrivateKeyFile(join(directory, 'second.key'), second);
  const root = createRoot({
    expires: new Date(Date.now() + 86400_000),
    roles: { root: { keys: [rootKey] }, release: { keys: [first, second], threshold: 2 }, server: { keys: [server] } },
  });
  const store = TrustStore.fromPinnedRoot(signDocument(root, [rootKey]), now());
  const sign = (keyFiles: string[], out: string) =>
    sluice([
      'release',
      'sign',
      artifact,
      ...keyFiles.flatMap((file) => ['--key', join(directory, file)]),
      '--product',
      'emu',
      '--version',
      '2.1.0',
      '--hardware',
      'emu-hw-1',
      '--out',
      join(directory, out),
    ]);
  t.equal((await sign(['first.key', 'second.key'], 'both.json')).code, 0);
  t.ok(store.verifyManifest(readJson(join(directory, 'both.json')), now()), 'two keys: accepted');
  t.equal((await sign(['first.key', 'first.key'], 'twice.json')).code, 0);
  t.equal(readJson(join(directory, 'twice.json')).signatures.length, 1, 'the same key named twice signs once');
  t.throws(
    () => store.verifyManifest(readJson(join(directory, 'twice.json')), now()),
    SignatureError,
    'and one key stays below a threshold of two',
  );
});

t.test('release sign: user mistakes are one clear line each', async (t) => {
  const key = join(keys, 'release.key');
  const base = ['--product', 'emu', '--version', '2.1.0', '--hardware', 'emu-hw-1', '--out', join(work, 'x.json')];
  const without = (name: string) => {
    const index = base.indexOf(name);
    return [...base.slice(0, index), ...base.slice(index + 2)];
  };
  const cases: [string, string[], RegExp][] = [
    [
      'no --hardware',
      ['release', 'sign', artifact, '--key', key, ...without('--hardware')],
      /--hardware is required: the hardware ids this build runs on/,
    ],
    ['no --key', ['release', 'sign', artifact, ...base], /--key is required/],
    ['no --product', ['release', 'sign', artifact, '--key', key, ...without('--product')], /--product is required/],
    ['no --out', ['release', 'sign', artifact, '--key', key, ...without('--out')], /--out MANIFEST is required/],
    ['no artifact', ['release', 'sign', '--key', key, ...base], /name exactly one ARTIFACT/],
    ['a missing artifact', ['release', 'sign', join(work, 'nope.img'), '--key', key, ...base], /nope\.img is not a readable file/],
    [
      'a version that is not semver',
      ['release', 'sign', artifact, '--key', key, ...base, '--version', 'v2'],
      /manifest field "version" must be a semantic version/,
    ],
    ['a key file that is no key', ['release', 'sign', artifact, '--key', artifact, ...base], /is not a private key in PKCS#8 PEM/],
    [
      'a missing key file',
      ['release', 'sign', artifact, '--key', join(work, 'none.key'), ...base],
      /cannot read the key file .*none\.key: ENOENT/,
    ],
    ['a bad --expires', ['release', 'sign', artifact, '--key', key, ...base, '--expires', 'soon'], /--expires "soon" is not a date/],
    [
      'a downgrade that does not say what it replaces',
      ['release', 'sign', artifact, '--key', key, ...base, '--downgrade'],
      /--downgrade needs --replaces RANGE/,
    ],
    [
      'a --replaces that is no range',
      ['release', 'sign', artifact, '--key', key, ...base, '--downgrade', '--replaces', 'the old ones'],
      /manifest field "replaces" must be a semver range/,
    ],
    ['an unknown option', ['release', 'sign', artifact, '--key', key, ...base, '--colour', 'blue'], /Unknown option '--colour'/],
  ];
  for (const [name, args, message] of cases) {
    const result = await sluice(args);
    t.equal(result.code, 1, `${name}: exit 1`);
    t.match(result.stderr, message, name);
    t.equal(result.stderr.trim().split('\n').length, 1, `${name}: one line, no stack`);
    t.match(result.stderr, /^sluice release sign: /);
  }
  t.notOk(existsSync(join(work, 'x.json')), 'no manifest written by any of them');
});

t.test('release sign streams the artifact: a 1 GiB image never sits in memory', async (t) => {
  const image = join(work, 'big.img');
  writeFileSync(image, '');
  truncateSync(image, 1024 ** 3); // sparse: a gibibyte of zeros without using the disk
  t.teardown(() => rmSync(image, { force: true }));
  // Report the process's peak resident memory as it exits.
  const report = 'data:text/javascript,process.on("exit",()=>process.stderr.write("maxRSS="+process.resourceUsage().maxRSS+"\\n"))';
  const result = await sluice(
    [
      'release',
      'sign',
      image,
      '--key',
      join(keys, 'release.key'),
      '--product',
      'emu',
      '--version',
      '3.0.0',
      '--hardware',
      'emu-hw-1',
      '--out',
      join(work, 'big.json'),
    ],
    ['--import', report],
  );
  t.equal(result.code, 0, result.stderr);
  t.match(
    readJson(join(work, 'big.json')).signed.artifact,
    { size: 1024 ** 3, sha256: '49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14' },
    'the SHA-256 of 1 GiB of zeros',
  );
  const kibibytes = Number(/maxRSS=(\d+)/.exec(result.stderr)?.[1]);
  t.ok(kibibytes > 0 && kibibytes < 256 * 1024, `peak memory ${Math.round(kibibytes / 1024)} MiB stays far below the image's 1024 MiB`);
});
