// A request refused before its body was read (409 version_exists, 401, 413) must leave the
// keep-alive connection usable: a small rest of the body is drained and the connection serves
// the next request; a large one is answered with `Connection: close`. Real server on
// 127.0.0.1, real clients: undici on one connection, and Node's own fetch.
import t, { type Test } from 'tap';
import { Agent, request } from 'undici';
import { startTestServer, seedFleet, signedManifest, multipartBody, storedState, type TestServer } from '../helpers/server.js';
// A body beyond the JSON limit: what a refused artifact upload looks like.
const mebibyte = 1024 * 1024;
import type { ServerOptions } from '../../server/config.js';

// A client that hangs waits this long before the test says so.
const patienceMs = 5000;

async function listening(t: Test, options: Partial<ServerOptions> = {}) {
  const server = await startTestServer(t, options);
  const fleet = await seedFleet(server);
  const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const connections = { opened: 0 };
  server.app.server.on('connection', () => {
    connections.opened += 1;
  });
  // One connection, one request at a time: a second request can only go where the first went.
  const dispatcher = new Agent({ connections: 1, pipelining: 1, headersTimeout: patienceMs, bodyTimeout: patienceMs });
  t.teardown(() => dispatcher.close());
  return { server, fleet, address, connections, dispatcher };
}

function upload(server: TestServer, version: string, size: number, token: string) {
  const artifact = Buffer.alloc(size, 7);
  const manifest = signedManifest(artifact, { product: 'emu', version }, [server.keys.release]);
  const { payload, contentType } = multipartBody([
    { name: 'manifest', filename: 'manifest.json', content: JSON.stringify(manifest) },
    { name: 'artifact', filename: 'image.bin', content: artifact },
  ]);
  return { payload, headers: { authorization: `Bearer ${token}`, 'content-type': contentType } };
}

async function send(address: string, dispatcher: Agent, body: { payload: Buffer; headers: Record<string, string> } | null) {
  const response = await request(
    `${address}${body ? '/api/v1/releases' : '/healthz'}`,
    body ? { method: 'POST', headers: body.headers, body: body.payload, dispatcher } : { dispatcher },
  );
  const text = await response.body.text();
  return {
    status: response.statusCode,
    connection: response.headers.connection,
    code: text.startsWith('{"error"') ? JSON.parse(text).error.code : undefined,
  };
}

t.test('a duplicate upload refused with 409 leaves the connection ready for the next request (undici)', async (t) => {
  const { server, fleet, address, connections, dispatcher } = await listening(t);
  const first = upload(server, '1.0.0', 200_000, fleet.tokens.release);
  t.equal((await send(address, dispatcher, first)).status, 201);
  // The manifest part is read, the version found taken, and the artifact part never read.
  t.match(await send(address, dispatcher, first), { status: 409, code: 'version_exists', connection: 'keep-alive' });
  t.equal((await send(address, dispatcher, null)).status, 200, 'the next request on the same connection is answered');
  t.match(await send(address, dispatcher, first), { status: 409, code: 'version_exists' });
  t.match(await send(address, dispatcher, upload(server, '1.0.1', 1000, fleet.tokens.release)), { status: 201 });
  t.equal(connections.opened, 1, 'every request went over the one keep-alive connection');
  t.match(await storedState(server), { releases: 2, temporary: 0 });
});

t.test("Node's fetch gets every answer after refused uploads, reusing its connections", async (t) => {
  const { server, fleet, address } = await listening(t);
  const first = upload(server, '1.0.0', 200_000, fleet.tokens.release);
  const post = (body: typeof first) =>
    fetch(`${address}/api/v1/releases`, {
      method: 'POST',
      headers: body.headers,
      body: body.payload,
      signal: AbortSignal.timeout(patienceMs),
    });
  t.equal((await post(first)).status, 201);
  // fetch keeps a pool; before the fix, the third request went onto a stuck connection.
  for (let attempt = 0; attempt < 4; attempt += 1) {
    const response = await post(first);
    t.match({ status: response.status, body: await response.json() }, { status: 409, body: { error: { code: 'version_exists' } } });
  }
  const health = await fetch(`${address}/healthz`, { signal: AbortSignal.timeout(patienceMs) });
  t.equal(health.status, 200);
  await health.arrayBuffer();
});

t.test('401 before the body was read: the body is drained, small or large, and the connection reused', async (t) => {
  const { server, address, connections, dispatcher } = await listening(t);
  t.match(await send(address, dispatcher, upload(server, '1.0.0', 200_000, 'not-a-token')), {
    status: 401,
    code: 'unauthorized',
    connection: 'keep-alive',
  });
  t.equal((await send(address, dispatcher, null)).status, 200);
  t.equal(connections.opened, 1, 'the small refused body was drained and the connection reused');
  // Closing under a client that is still sending would cost it the answer (EPIPE): drained too.
  const large = upload(server, '1.0.0', 4 * mebibyte, 'not-a-token');
  t.match(await send(address, dispatcher, large), { status: 401, connection: 'keep-alive' });
  t.equal((await send(address, dispatcher, null)).status, 200, 'the next request is answered on the same connection');
  t.equal(connections.opened, 1);
});

t.test('413 at the artifact limit: the next request on the connection is answered', async (t) => {
  const { server, fleet, address, connections, dispatcher } = await listening(t, { maxArtifactBytes: 64 * 1024 });
  // Over the artifact limit: busboy reads the rest of the file itself, the connection stays.
  t.match(await send(address, dispatcher, upload(server, '1.0.0', 200_000, fleet.tokens.release)), {
    status: 413,
    code: 'payload_too_large',
    connection: 'keep-alive',
  });
  t.equal((await send(address, dispatcher, null)).status, 200);
  t.match(await send(address, dispatcher, upload(server, '1.0.0', 1000, fleet.tokens.release)), { status: 201 });
  t.equal(connections.opened, 1);
  t.match(await storedState(server), { releases: 1, temporary: 0 });
});

t.test('413 for a manifest part over its limit: the rest is drained, the connection serves the next upload', async (t) => {
  const { server, fleet, address, connections, dispatcher } = await listening(t);
  const { payload, contentType } = multipartBody([
    { name: 'manifest', filename: 'manifest.json', content: Buffer.alloc(mebibyte + 64 * 1024, 0x20) },
    { name: 'artifact', filename: 'image.bin', content: Buffer.alloc(1000) },
  ]);
  const oversized = { payload, headers: { authorization: `Bearer ${fleet.tokens.release}`, 'content-type': contentType } };
  t.match(await send(address, dispatcher, oversized), { status: 413, code: 'payload_too_large', connection: 'keep-alive' });
  t.match(await send(address, dispatcher, upload(server, '1.0.0', 1000, fleet.tokens.release)), { status: 201 });
  t.equal(connections.opened, 1);
  t.match(await storedState(server), { releases: 1, temporary: 0 });
});

t.test('a large duplicate upload is answered 409, drained, and the next request served on the same connection', async (t) => {
  const { server, fleet, address, connections, dispatcher } = await listening(t);
  t.equal((await send(address, dispatcher, upload(server, '1.0.0', 1000, fleet.tokens.release))).status, 201);
  const large = upload(server, '1.0.0', 4 * mebibyte, fleet.tokens.release);
  t.match(await send(address, dispatcher, large), { status: 409, code: 'version_exists', connection: 'keep-alive' });
  t.equal((await send(address, dispatcher, null)).status, 200);
  t.equal(connections.opened, 1);
  t.match(await storedState(server), { releases: 1, temporary: 0 });
});
