// The agent's download against a server whose artifacts are in a real S3 implementation
// (moto behind helpers/object-store.ts), in each delivery mode the S3 store offers: streamed
// through the server, or a 307 to a pre-signed URL. A cut transfer resumes with Range (on the
// object store itself when redirected, with no token sent there); a pre-signed URL that
// expired before its request arrived is refused by the store with 403, and the agent asks the
// server for a fresh one at once instead of failing the attempt.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { download } from '../../client/download.js';
import { AgentError } from '../../client/errors.js';
import type { ServerOptions } from '../../server/config.js';
import { startTestServer, seedFleet, signedManifest, uploadRelease, sha256 } from '../helpers/server.js';
import { objectStoreUnavailable, startObjectStore, type StoreRequest } from '../helpers/object-store.js';
import { waitFor } from '../helpers/agent.js';

const skip = objectStoreUnavailable();
const artifact = randomBytes(12 * 1024 * 1024 + 5);

async function setup(t: Test, delivery: ServerOptions['artifactDelivery']) {
  const objects = await startObjectStore(t);
  Object.assign(process.env, objects.env);
  const server = await startTestServer(t, { artifactStoreUrl: objects.storeUrl(), artifactDelivery: delivery });
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const fleet = await seedFleet(server);
  const published = await uploadRelease(
    server,
    fleet.tokens.release,
    signedManifest(artifact, { product: 'emu', version: '2.0.0' }, [server.keys.release]),
    artifact,
  );
  if (published.status !== 201) throw new Error(JSON.stringify(published.json));
  // Publishing computes the DDI digests in the background, reading the object: let it finish
  // so that its GET does not take the fault meant for the download.
  await waitFor(async () => (await server.app.sluice.store.releases.get(published.json.id))?.sha1, 'the legacy digests', 30_000, 100);
  const directory = mkdtempSync(join(tmpdir(), 'sluice-s3-download-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const target = {
    url: `${url}/api/v1/releases/${published.json.id}/artifact`,
    server: url,
    token: fleet.tokens.support,
    size: artifact.length,
    sha256: sha256(artifact),
    path: join(directory, 'artifact.part'),
  };
  objects.seen.length = 0;
  return { objects, server, target };
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error) => (error instanceof AgentError ? error.code : (error as Error).message),
  );
const presignedRequests = (seen: StoreRequest[]) => seen.filter((request) => request.query.has('X-Amz-Signature'));

t.test('redirect: a cut download resumes with Range on the object store, never with the token', { skip }, async (t) => {
  const { objects, target } = await setup(t, { mode: 'redirect', presignSeconds: 60 });
  objects.faults.cutObjectAfterBytes = 5 * 1024 * 1024;
  t.equal(await codeOf(download(target)), 'download_failed', 'the connection to the store broke');
  const resumed = await download(target);
  t.ok(resumed.resumedFrom > 0 && resumed.resumedFrom <= 5 * 1024 * 1024, `resumed from byte ${resumed.resumedFrom}`);
  t.equal(resumed.sha256, sha256(artifact));
  t.ok(readFileSync(target.path).equals(artifact), 'the file is whole');
  const requests = presignedRequests(objects.seen);
  t.same(
    requests.map((request) => request.range),
    [null, `bytes=${resumed.resumedFrom}-`],
    'the second attempt asked the store for the rest',
  );
  t.ok(
    objects.seen.every((request) => request.authorization === null || !request.authorization.includes(target.token)),
    'the store never saw the bearer token',
  );
  t.ok(
    requests.every((request) => request.authorization === null),
    'pre-signed requests carry no Authorization at all',
  );
});

t.test('redirect: a URL that expired on the way is refused by the store, and the agent gets a fresh one', { skip }, async (t) => {
  const { objects, target } = await setup(t, { mode: 'redirect', presignSeconds: 1 });
  // The first request to the store arrives after the URL's second has passed.
  objects.faults.delayPresignedMs = 2500;
  const result = await download(target);
  t.equal(result.sha256, sha256(artifact), 'one attempt, done');
  const requests = presignedRequests(objects.seen);
  t.same(
    requests.map((request) => request.status),
    [403, 200],
    'refused as expired, then served',
  );
  t.not(requests[0].query.get('X-Amz-Signature'), requests[1].query.get('X-Amz-Signature'), 'the second URL is a new one');
});

t.test('stream: the server reads the range from the bucket; a cut transfer resumes with Range', { skip }, async (t) => {
  const { objects, target } = await setup(t, { mode: 'stream' });
  objects.faults.cutObjectAfterBytes = 4 * 1024 * 1024;
  t.equal(await codeOf(download(target)), 'download_failed', 'the server lost the bucket mid-transfer and cut the device off');
  const resumed = await download(target);
  t.ok(resumed.resumedFrom > 0, `resumed from byte ${resumed.resumedFrom}`);
  t.ok(readFileSync(target.path).equals(artifact), 'the file is whole');
  t.equal(presignedRequests(objects.seen).length, 0, 'no pre-signed URL in stream mode');
  const gets = objects.seen.filter((request) => request.method === 'GET' && request.path.includes('/artifacts/'));
  t.equal(gets.at(-1)!.range, `bytes=${resumed.resumedFrom}-`, 'the server asked the bucket for the rest');
});
