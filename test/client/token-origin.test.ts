// The device token goes to the configured server's origin only (DESIGN.md, "Trust model"),
// with two real servers on loopback, two origins (they differ in port): an artifact named on
// the other origin, or reached by redirect, is fetched without the token, as a pre-signed
// object-store URL is meant to be; the other origin never sees it.
import t, { type Test } from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { download } from '../../client/download.js';
import { AgentError } from '../../client/errors.js';
import { signDocument } from '../../signing/signed.js';
import { startFakeServer, throwAwayTrust, manifestFor } from './helpers/fake-server.js';
import { startObjectStore } from './helpers/object-store.js';
import { makeDevice, manualClock, startAgent, stepUntil, slotFiles } from './helpers/device.js';

const artifact = randomBytes(512 * 1024 + 7);
const sha256 = createHash('sha256').update(artifact).digest('hex');
const hour = 3600_000;

async function setup(t: Test) {
  const trust = throwAwayTrust();
  const server = await startFakeServer({ keys: trust.keys });
  t.teardown(server.close);
  server.script.offer = {
    id: 'a1',
    manifest: signDocument(manifestFor(artifact), [trust.keys.release]),
    bytes: artifact,
    window: null,
    installAllowed: false,
    downgrade: false,
  };
  const store = await startObjectStore(artifact);
  t.teardown(store.close);
  const directory = mkdtempSync(join(tmpdir(), 'sluice-origin-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const target = (url: string) => ({
    url,
    server: server.url,
    token: 'device-token',
    size: artifact.length,
    sha256,
    path: join(directory, `${sha256}.part`),
  });
  return { trust, server, store, target };
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error) => (error instanceof AgentError ? error.code : (error as Error).message),
  );

t.test('an artifact URL on another origin is fetched without the token', async (t) => {
  const { store, target } = await setup(t);
  const result = await download(target(store.presigned('emu.img')));
  t.equal(result.sha256, sha256, 'the bytes arrived');
  t.same(
    store.seen.map((request) => request.authorization),
    [null],
    'no Authorization header',
  );
});

t.test('a redirect to another origin drops the token, on a resume too', async (t) => {
  const { server, store, target } = await setup(t);
  server.script.artifactRedirect = store.presigned('emu.img');
  const through = target(`${server.url}/api/v1/releases/release-a1/artifact`);
  t.equal((await download(through)).sha256, sha256);
  t.same(
    server.seen.artifactRequests.map((request) => request.authorization),
    ['Bearer device-token'],
    'the server itself gets the token',
  );
  t.same(
    store.seen.map((request) => request.authorization),
    [null],
    'the store does not',
  );

  store.seen.length = 0;
  writeFileSync(through.path, artifact.subarray(0, 1000));
  const resumed = await download(through);
  t.equal(resumed.resumedFrom, 1000);
  t.match(store.seen, [{ authorization: null, range: 'bytes=1000-' }], 'the Range follows the redirect, the token does not');
  t.ok(readFileSync(through.path).equals(artifact));
});

t.test('a redirect that comes back to the server origin carries the token again; a loop fails', async (t) => {
  const { server, store, target } = await setup(t);
  store.script.redirect = `${server.url}/api/v1/releases/release-a1/artifact`;
  const back = target(store.presigned('emu.img'));
  t.equal((await download(back)).sha256, sha256);
  t.same(
    store.seen.map((request) => request.authorization),
    [null],
  );
  t.same(
    server.seen.artifactRequests.map((request) => request.authorization),
    ['Bearer device-token'],
    'its own origin: the token is its to see',
  );

  rmSync(back.path);
  server.script.artifactRedirect = store.presigned('loop');
  t.equal(await codeOf(download(back)), 'download_failed', 'a redirect loop ends in download_failed');
  t.ok(
    store.seen.every((request) => request.authorization === null),
    'the store never saw the token',
  );
  t.ok(store.seen.length <= 6, `${store.seen.length} requests to the store: the redirects are bounded`);
});

t.test('the agent: an assignment naming another origin installs without the token leaving', async (t) => {
  const { trust, server, store } = await setup(t);
  const clock = manualClock(new Date());
  server.script.offer = {
    ...server.script.offer!,
    artifactUrl: store.presigned('emu.img'),
    installAllowed: true,
    window: { start: new Date(clock.now().getTime() - hour).toISOString(), end: new Date(clock.now().getTime() + 3 * hour).toISOString() },
  };
  const device = makeDevice(t, { server: server.url, rootDocument: trust.rootDocument });
  const agent = startAgent(device, { now: clock.now });
  await stepUntil(agent, (a) => a.state.journal.state === 'idle' && a.state.device.version === '2.0.0');
  t.ok(slotFiles(device, 'b')?.equals(artifact), 'installed from the other origin');
  t.ok(store.seen.length > 0, 'the bytes came from the store');
  t.same(
    store.seen.filter((request) => request.authorization !== null),
    [],
    'which never saw the token',
  );
  t.same(server.seen.artifactRequests, [], 'and the server was not asked for them');
});
