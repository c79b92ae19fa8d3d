// The README's quick start, as a new user runs it: real server process, real CLI.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { runSluice, startServerProcess } from '../helpers/processes.js';

t.test('keys init, release sign, release publish, then download byte-identical and resumable', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'sluice-quickstart-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));

  const help = await runSluice(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /sluice release publish/);

  const init = await runSluice(['keys', 'init', '--out', join(work, 'keys')]);
  t.equal(init.code, 0, init.stderr);
  for (const name of ['root.key', 'release.key', 'server.key']) {
    t.equal(statSync(join(work, 'keys', name)).mode & 0o777, 0o600, `${name} is mode 0600`);
  }
  t.equal((await runSluice(['keys', 'init', '--out', join(work, 'keys')])).code, 1, 'keys are never overwritten');

  const server = await startServerProcess(join(work, 'data'));
  t.teardown(server.stop);
  const admin = readFileSync(join(work, 'data', 'admin.token'), 'utf8').trim();
  t.equal(statSync(join(work, 'data', 'admin.token')).mode & 0o777, 0o600);
  const api = async (method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await request(`${server.url}${path}`, {
      method: method as 'GET',
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.statusCode, headers: response.headers, bytes: Buffer.from(await response.body.arrayBuffer()) };
  };
  t.equal((await api('POST', '/api/v1/products', admin, { id: 'emu', name: 'Energy management unit' })).status, 201);
  const releaseToken = JSON.parse(
    (await api('POST', '/api/v1/users', admin, { username: 'rita', role: 'release' })).bytes.toString(),
  ).token;

  const artifact = randomBytes(3 * 1024 * 1024 + 5);
  writeFileSync(join(work, 'emu-2.1.0.img'), artifact);
  const releaseKey = join(work, 'data', 'keys', 'release.key');
  const signed = await runSluice([
    'release',
    'sign',
    join(work, 'emu-2.1.0.img'),
    '--key',
    releaseKey,
    '--product',
    'emu',
    '--version',
    '2.1.0',
    '--hardware',
    'emu-hw-1',
    '--fixes',
    'F-1042',
    '--out',
    join(work, 'manifest.json'),
  ]);
  t.equal(signed.code, 0, signed.stderr);
  const manifest = JSON.parse(readFileSync(join(work, 'manifest.json'), 'utf8'));
  t.match(manifest.signed, {
    type: 'release',
    product: 'emu',
    version: '2.1.0',
    hardware: ['emu-hw-1'],
    fixes: ['F-1042'],
    artifact: { size: artifact.length },
  });

  const published = await runSluice([
    'release',
    'publish',
    join(work, 'emu-2.1.0.img'),
    '--manifest',
    join(work, 'manifest.json'),
    '--server',
    server.url,
    '--token',
    releaseToken,
  ]);
  t.equal(published.code, 0, published.stderr);
  const release = JSON.parse(published.stdout);
  t.match(release, { product: 'emu', version: '2.1.0', size: artifact.length });

  const again = await runSluice([
    'release',
    'publish',
    join(work, 'emu-2.1.0.img'),
    '--manifest',
    join(work, 'manifest.json'),
    '--server',
    server.url,
    '--token',
    releaseToken,
  ]);
  t.equal(again.code, 1);
  t.match(again.stderr, /^sluice release publish: refused \(HTTP 409\) version_exists: /, 'one clear line with the error code');
  const foreignKey = join(work, 'keys', 'release.key');
  await runSluice([
    'release',
    'sign',
    join(work, 'emu-2.1.0.img'),
    '--key',
    foreignKey,
    '--product',
    'emu',
    '--version',
    '2.2.0',
    '--hardware',
    'emu-hw-1',
    '--out',
    join(work, 'foreign.json'),
  ]);
  const refused = await runSluice([
    'release',
    'publish',
    join(work, 'emu-2.1.0.img'),
    '--manifest',
    join(work, 'foreign.json'),
    '--server',
    server.url,
    '--token',
    releaseToken,
  ]);
  t.match(refused.stderr, /refused \(HTTP 422\) signature_invalid/, 'a key the server does not trust is refused');

  const full = await api('GET', `/api/v1/releases/${release.id}/artifact`, admin);
  t.equal(full.status, 200);
  t.ok(full.bytes.equals(artifact), 'downloads byte-identical');
  const middle = 1_500_000;
  const rest = await api('GET', `/api/v1/releases/${release.id}/artifact`, admin, undefined, { range: `bytes=${middle}-` });
  t.equal(rest.status, 206);
  t.ok(Buffer.concat([artifact.subarray(0, middle), rest.bytes]).equals(artifact), 'resumes from the middle');
});
