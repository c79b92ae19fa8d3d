// The built server (`npm run build` → dist/server/sluice.mjs, README "Running in production"):
// built fresh and run by plain node, it finds its migrations, serves the API and /docs, and
// its CLI signs and publishes a release that downloads back byte for byte.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startLiveServer, apiClient } from '../helpers/live-server.js';
import { runSluice } from '../helpers/processes.js';
import { buildServer, serverEntry } from '../../build/server.mjs';

t.test('the built server runs without the TypeScript loader', async (t) => {
  await buildServer();
  const directory = mkdtempSync(join(tmpdir(), 'sluice-built-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const dataDir = join(directory, 'data');
  const server = await startLiveServer(t, dataDir, { script: serverEntry });
  const api = apiClient(server.url).call;
  t.equal((await api('GET', '/healthz', null)).status, 200);
  t.equal((await api('GET', '/docs/json', null)).json.openapi.startsWith('3.'), true, 'the OpenAPI document');

  const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  t.equal((await api('POST', '/api/v1/products', admin, { id: 'emu', name: 'EMU' })).status, 201);
  const release = (await api('POST', '/api/v1/users', admin, { username: 'r', role: 'release' })).json.token as string;
  const artifact = randomBytes(100_000);
  writeFileSync(join(directory, 'image.bin'), artifact);
  const signed = await runSluice(
    [
      'release',
      'sign',
      join(directory, 'image.bin'),
      '--key',
      join(dataDir, 'keys', 'release.key'),
      '--product',
      'emu',
      '--version',
      '2.0.0',
      '--hardware',
      'emu-hw-1',
      '--out',
      join(directory, 'manifest.json'),
    ],
    { script: serverEntry },
  );
  t.equal(signed.code, 0, signed.stderr);
  const published = await runSluice(
    [
      'release',
      'publish',
      join(directory, 'image.bin'),
      '--manifest',
      join(directory, 'manifest.json'),
      '--server',
      server.url,
      '--token',
      release,
    ],
    { script: serverEntry },
  );
  t.equal(published.code, 0, published.stderr);
  const id = JSON.parse(published.stdout).id as string;
  const download = await api('GET', `/api/v1/releases/${id}/artifact`, admin);
  t.equal(download.status, 200);
  t.ok(download.bytes.equals(artifact), 'the artifact comes back byte for byte');
  await server.stop();
});
