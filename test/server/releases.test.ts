// Release publishing and download (issue: foundation). Each bad upload: a clear 4xx and
// nothing stored.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { generateKeyPair } from '../../signing/keys.js';
import { startTestServer, seedFleet, signedManifest, uploadRelease, storedState, multipartBody } from '../helpers/server.js';

const artifact = randomBytes(256 * 1024 + 17);

t.test('a signed release publishes and downloads byte-identical, resumable from the middle', async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  const manifest = signedManifest(artifact, { product: 'emu', version: '1.2.0' }, [server.keys.release]);
  const published = await uploadRelease(server, fleet.tokens.release, manifest, artifact);
  t.equal(published.status, 201, JSON.stringify(published.json));
  t.match(published.json, { product: 'emu', version: '1.2.0', size: artifact.length });
  const id = published.json.id;

  const full = await server.app.inject({
    method: 'GET',
    url: `/api/v1/releases/${id}/artifact`,
    headers: { authorization: `Bearer ${fleet.tokens.support}` },
  });
  t.equal(full.statusCode, 200);
  t.ok(full.rawPayload.equals(artifact), 'bytes identical');
  t.equal(full.headers.etag, `"${published.json.sha256}"`);
  t.equal(Number(full.headers['content-length']), artifact.length);

  const middle = 100_000;
  const partial = await server.app.inject({
    method: 'GET',
    url: `/api/v1/releases/${id}/artifact`,
    headers: { authorization: `Bearer ${fleet.tokens.support}`, range: `bytes=${middle}-` },
  });
  t.equal(partial.statusCode, 206);
  t.equal(partial.headers['content-range'], `bytes ${middle}-${artifact.length - 1}/${artifact.length}`);
  t.ok(Buffer.concat([artifact.subarray(0, middle), partial.rawPayload]).equals(artifact), 'resumed download completes the file');

  const head = await server.app.inject({
    method: 'HEAD',
    url: `/api/v1/releases/${id}/artifact`,
    headers: { authorization: `Bearer ${fleet.tokens.support}` },
  });
  t.equal(head.statusCode, 200);
  t.equal(Number(head.headers['content-length']), artifact.length);
  t.equal(head.rawPayload.length, 0);

  const cached = await server.app.inject({
    method: 'GET',
    url: `/api/v1/releases/${id}/artifact`,
    headers: { authorization: `Bearer ${fleet.tokens.support}`, 'if-none-match': full.headers.etag as string },
  });
  t.equal(cached.statusCode, 304);

  for (const range of [`bytes=${artifact.length}-`, `bytes=${artifact.length + 10}-${artifact.length + 20}`, 'bytes=500-100']) {
    const outside = await server.app.inject({
      method: 'GET',
      url: `/api/v1/releases/${id}/artifact`,
      headers: { authorization: `Bearer ${fleet.tokens.support}`, range },
    });
    t.equal(outside.statusCode, 416, range);
    t.equal(outside.json().error.code, 'range_not_satisfiable');
  }

  const listed = await server.call('GET', '/api/v1/releases?product=emu', fleet.tokens.support);
  t.equal(listed.json.length, 1);
  const yank = await server.call('POST', `/api/v1/releases/${id}/yank`, fleet.tokens.release, { reason: 'bricks hw rev 2' });
  t.equal(yank.status, 200);
  t.ok(yank.json.yankedAt);
  t.equal((await server.call('POST', `/api/v1/releases/${id}/yank`, fleet.tokens.release, {})).status, 409, 'yanking twice conflicts');
  const audit = await server.call('GET', `/api/v1/audit?subject=release:${id}`, fleet.tokens.admin);
  t.same(audit.json.map((entry: { action: string }) => entry.action).sort(), ['release.publish', 'release.yank']);
});

t.test('bad uploads are refused with a clear 4xx and leave nothing behind', async (t) => {
  const server = await startTestServer(t, { maxArtifactBytes: 512 * 1024 });
  const fleet = await seedFleet(server);
  const stranger = generateKeyPair().privateKey;
  const tampered = Buffer.from(artifact);
  tampered[1000] ^= 0xff;
  const good = (version: string) => signedManifest(artifact, { product: 'emu', version }, [server.keys.release]);
  const huge = randomBytes(600 * 1024);

  const cases: { name: string; send: () => Promise<{ status: number; json: any }>; status: number; code: string }[] = [
    {
      name: 'unknown signing key',
      send: () =>
        uploadRelease(server, fleet.tokens.release, signedManifest(artifact, { product: 'emu', version: '2.0.0' }, [stranger]), artifact),
      status: 422,
      code: 'signature_invalid',
    },
    {
      name: 'signed by the root key, not a release key',
      send: () =>
        uploadRelease(
          server,
          fleet.tokens.release,
          signedManifest(artifact, { product: 'emu', version: '2.0.0' }, [server.keys.root]),
          artifact,
        ),
      status: 422,
      code: 'signature_invalid',
    },
    {
      name: 'no signatures at all',
      send: () => uploadRelease(server, fleet.tokens.release, { ...good('2.0.0'), signatures: [] }, artifact),
      status: 422,
      code: 'signature_invalid',
    },
    {
      name: 'tampered artifact',
      send: () => uploadRelease(server, fleet.tokens.release, good('2.0.0'), tampered),
      status: 422,
      code: 'digest_mismatch',
    },
    {
      name: 'artifact shorter than the manifest',
      send: () => uploadRelease(server, fleet.tokens.release, good('2.0.0'), artifact.subarray(0, artifact.length - 1)),
      status: 422,
      code: 'size_mismatch',
    },
    {
      name: 'artifact longer than the manifest',
      send: () => uploadRelease(server, fleet.tokens.release, good('2.0.0'), Buffer.concat([artifact, Buffer.from('x')])),
      status: 422,
      code: 'size_mismatch',
    },
    {
      name: 'artifact part before the manifest part',
      send: () => uploadRelease(server, fleet.tokens.release, good('2.0.0'), artifact, 'artifact-first'),
      status: 400,
      code: 'bad_request',
    },
    {
      name: 'unknown product',
      send: () =>
        uploadRelease(
          server,
          fleet.tokens.release,
          signedManifest(artifact, { product: 'nope', version: '2.0.0' }, [server.keys.release]),
          artifact,
        ),
      status: 422,
      code: 'unknown_product',
    },
    {
      name: 'version that is not semver',
      send: () =>
        uploadRelease(
          server,
          fleet.tokens.release,
          signedManifest(artifact, { product: 'emu', version: 'v2' }, [server.keys.release]),
          artifact,
        ),
      status: 422,
      code: 'manifest_invalid',
    },
    {
      name: 'over the size limit',
      send: () =>
        uploadRelease(
          server,
          fleet.tokens.release,
          signedManifest(huge, { product: 'emu', version: '2.0.0' }, [server.keys.release]),
          huge,
        ),
      status: 413,
      code: 'payload_too_large',
    },
    {
      name: 'support role may not publish',
      send: () => uploadRelease(server, fleet.tokens.support, good('2.0.0'), artifact),
      status: 403,
      code: 'forbidden',
    },
    {
      name: 'customer role may not publish',
      send: () => uploadRelease(server, fleet.tokens.customer, good('2.0.0'), artifact),
      status: 403,
      code: 'forbidden',
    },
    { name: 'no token', send: () => uploadRelease(server, '', good('2.0.0'), artifact), status: 401, code: 'unauthorized' },
    {
      name: 'unknown token',
      send: () => uploadRelease(server, 'u_not-a-token', good('2.0.0'), artifact),
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'manifest that is not JSON',
      send: async () => {
        const { payload, contentType } = multipartBody([
          { name: 'manifest', content: 'not json' },
          { name: 'artifact', filename: 'a.bin', content: artifact },
        ]);
        const response = await server.app.inject({
          method: 'POST',
          url: '/api/v1/releases',
          headers: { authorization: `Bearer ${fleet.tokens.release}`, 'content-type': contentType },
          payload,
        });
        return { status: response.statusCode, json: response.json() };
      },
      status: 422,
      code: 'manifest_invalid',
    },
    {
      name: 'artifact part missing',
      send: async () => {
        const { payload, contentType } = multipartBody([{ name: 'manifest', content: JSON.stringify(good('2.0.0')) }]);
        const response = await server.app.inject({
          method: 'POST',
          url: '/api/v1/releases',
          headers: { authorization: `Bearer ${fleet.tokens.release}`, 'content-type': contentType },
          payload,
        });
        return { status: response.statusCode, json: response.json() };
      },
      status: 400,
      code: 'bad_request',
    },
    {
      name: 'not multipart at all',
      send: async () => {
        const response = await server.app.inject({
          method: 'POST',
          url: '/api/v1/releases',
          headers: { authorization: `Bearer ${fleet.tokens.release}` },
          payload: { manifest: 1 },
        });
        return { status: response.statusCode, json: response.json() };
      },
      status: 400,
      code: 'bad_request',
    },
  ];
  for (const testCase of cases) {
    const response = await testCase.send();
    t.equal(response.status, testCase.status, `${testCase.name}: status (${JSON.stringify(response.json)})`);
    t.equal(response.json?.error?.code, testCase.code, `${testCase.name}: code`);
    t.type(response.json?.error?.message, 'string', `${testCase.name}: message`);
    t.same(await storedState(server), { releases: 0, artifacts: 0, temporary: 0 }, `${testCase.name}: nothing stored`);
  }

  const first = await uploadRelease(server, fleet.tokens.release, good('3.0.0'), artifact);
  t.equal(first.status, 201);
  const duplicate = await uploadRelease(server, fleet.tokens.release, good('3.0.0'), artifact);
  t.equal(duplicate.status, 409);
  t.equal(duplicate.json.error.code, 'version_exists');
  t.same(await storedState(server), { releases: 1, artifacts: 1, temporary: 0 }, 'the duplicate left nothing');
});

t.test('a client that disconnects halfway leaves no temporary file and no row', async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = new URL(address);
  const manifest = signedManifest(artifact, { product: 'emu', version: '4.0.0' }, [server.keys.release]);
  const { payload, contentType } = multipartBody([
    { name: 'manifest', filename: 'm.json', content: JSON.stringify(manifest) },
    { name: 'artifact', filename: 'a.bin', content: artifact },
  ]);
  await new Promise<void>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(
        `POST /api/v1/releases HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${fleet.tokens.release}\r\nContent-Type: ${contentType}\r\nContent-Length: ${payload.length}\r\n\r\n`,
      );
      socket.write(payload.subarray(0, Math.floor(payload.length / 2)), () =>
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 200),
      );
    });
    socket.on('error', reject);
  });
  // The server notices the reset asynchronously; wait until its temporary file is gone.
  let state = await storedState(server);
  for (let attempt = 0; attempt < 50 && state.temporary > 0; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    state = await storedState(server);
  }
  t.same(state, { releases: 0, artifacts: 0, temporary: 0 });
});
