// Artifact downloads over a real socket (issue #7: the server writes the file to the raw
// response through reused buffers). Artifacts span several of those buffers, so every chunk
// boundary is crossed; a client that leaves mid-transfer must not leave the file open.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { request } from 'undici';
import { startTestServer, seedFleet, signedManifest, uploadRelease } from '../helpers/server.js';

const mebibyte = 1024 * 1024;
const artifact = randomBytes(2 * mebibyte + mebibyte / 2 + 17);

async function servedRelease(t: Test) {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  const published = await uploadRelease(
    server,
    fleet.tokens.release,
    signedManifest(artifact, { product: 'emu', version: '1.0.0' }, [server.keys.release]),
    artifact,
  );
  t.equal(published.status, 201, JSON.stringify(published.json));
  const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `${address}/api/v1/releases/${published.json.id}/artifact`;
  const get = (headers: Record<string, string> = {}) =>
    request(url, { headers: { authorization: `Bearer ${fleet.tokens.support}`, ...headers } });
  const artifactPath = `${server.dataDir}/artifacts/${published.json.sha256.slice(0, 2)}/${published.json.sha256}`;
  return { server, get, artifactPath };
}

/** Descriptors of this process that point at the file: the server runs in this process. */
function openDescriptors(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}

async function eventually(check: () => boolean) {
  for (let attempt = 0; attempt < 100 && !check(); attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
  return check();
}

t.test('full and ranged downloads are byte-identical across buffer boundaries, with the security headers', async (t) => {
  const { get } = await servedRelease(t);
  const full = await get();
  t.equal(full.statusCode, 200);
  t.equal(Number(full.headers['content-length']), artifact.length);
  t.equal(full.headers['x-content-type-options'], 'nosniff', 'hook-set headers survive the raw write');
  t.ok(Buffer.from(await full.body.arrayBuffer()).equals(artifact), 'bytes identical');

  for (const [first, last] of [
    [mebibyte - 5, 2 * mebibyte + 3],
    [0, 0],
    [artifact.length - 1, artifact.length - 1],
    [mebibyte, 2 * mebibyte - 1],
  ]) {
    const partial = await get({ range: `bytes=${first}-${last}` });
    t.equal(partial.statusCode, 206);
    t.equal(partial.headers['content-range'], `bytes ${first}-${last}/${artifact.length}`);
    t.ok(Buffer.from(await partial.body.arrayBuffer()).equals(artifact.subarray(first, last + 1)), `bytes ${first}-${last} identical`);
  }

  const concurrent = await Promise.all(Array.from({ length: 4 }, async () => Buffer.from(await (await get()).body.arrayBuffer())));
  t.ok(
    concurrent.every((bytes) => bytes.equals(artifact)),
    'concurrent downloads identical',
  );
});

t.test('a client that leaves mid-download closes the file and the next download still works', async (t) => {
  const { get, artifactPath } = await servedRelease(t);
  const response = await get();
  for await (const _chunk of response.body) break;
  t.ok(await eventually(() => openDescriptors(artifactPath) === 0), 'no descriptor left on the artifact');
  const again = await get();
  t.ok(Buffer.from(await again.body.arrayBuffer()).equals(artifact), 'served whole afterwards');
  // The last bytes reach the client a moment before the server closes its descriptor.
  t.ok(await eventually(() => openDescriptors(artifactPath) === 0), 'no descriptor left after a whole download');
});
