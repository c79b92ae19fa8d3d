// The device protocol's client (docs/device-protocol.md) against a real socket: a check-in
// answer is accepted only if signed by the root's server role, bound to the nonce just sent,
// for this device and unexpired by the device's own clock (freeze and replay, DESIGN.md
// "Trust model"); root rotations are walked one version at a time; diagnostics go up as one
// multipart part named `bundle`. A signed answer must also fit the protocol's schema of it.
import t, { type Test } from 'tap';
import { TrustStore } from '../../signing/trust-store.js';
import { signDocument, type SignedDocument } from '../../signing/signed.js';
import { generateKeyPair } from '../../signing/keys.js';
import { createRoot } from '../../signing/root.js';
import { checkin, updateRoots, verifyCheckinAnswer, type ProtocolOptions } from '../../client/protocol.js';
import { uploadDiagnostics } from '../../client/diagnostics.js';
import { AgentError } from '../../client/errors.js';
import { startFakeServer, throwAwayTrust, manifestFor } from './helpers/fake-server.js';
import { manualClock } from './helpers/device.js';

async function setup(t: Test) {
  const trust = throwAwayTrust();
  const clock = manualClock(new Date());
  const server = await startFakeServer({ keys: trust.keys, now: clock.now });
  t.teardown(server.close);
  let counter = 0;
  const protocol: ProtocolOptions = {
    server: server.url,
    deviceId: 'emu-0001',
    token: 'device-token',
    now: clock.now,
    randomBytes: (size) => Buffer.alloc(size, ++counter),
  };
  const store = TrustStore.fromPinnedRoot(trust.rootDocument, clock.now());
  return { trust, clock, server, protocol, store };
}

async function codeOf(promise: Promise<unknown>): Promise<string | null> {
  try {
    await promise;
    return null;
  } catch (error) {
    return error instanceof AgentError ? error.code : `not an AgentError: ${(error as Error).message}`;
  }
}

const body = { version: '1.0.0', state: 'idle', assignment: null };

t.test('a good answer: the request carries version, state and a 32-byte nonce from the random source', async (t) => {
  const { server, protocol, store } = await setup(t);
  const answer = await checkin(protocol, store, body);
  t.same(server.seen.checkins, [{ version: '1.0.0', state: 'idle', assignment: null, nonce: '01'.repeat(32) }]);
  t.match(answer, {
    type: 'checkin',
    deviceId: 'emu-0001',
    nonce: '01'.repeat(32),
    pollAfterSeconds: 30,
    assignment: null,
    diagnostics: null,
  });
  await checkin(protocol, store, body);
  t.equal(server.seen.checkins[1].nonce, '02'.repeat(32), 'a fresh nonce each time');
});

t.test('refused answers, each with its code', async (t) => {
  const { server, protocol, store, trust, clock } = await setup(t);
  const cases: [string, () => void, string][] = [
    [
      'signed by an unknown key',
      () => {
        server.script.signWith = generateKeyPair().privateKey;
      },
      'checkin_signature_invalid',
    ],
    [
      'signed by a release key (wrong role)',
      () => {
        server.script.signWith = trust.keys.release;
      },
      'checkin_signature_invalid',
    ],
    [
      'bound to another nonce',
      () => {
        server.script.rewrite = (signed) => ({ ...signed, nonce: 'ab'.repeat(32) });
      },
      'checkin_nonce_mismatch',
    ],
    [
      'a replay of an earlier answer',
      () => {
        server.script.replayFirstAnswer = true;
      },
      'checkin_nonce_mismatch',
    ],
    [
      'for another device',
      () => {
        server.script.deviceId = 'emu-0002';
      },
      'checkin_wrong_device',
    ],
    [
      'expired by its own expires',
      () => {
        server.script.rewrite = (signed) => ({ ...signed, expires: new Date(clock.now().getTime() - 1000).toISOString() });
      },
      'checkin_expired',
    ],
    // Signed by the right key, yet not the protocol's shape (protocol/checkin.ts): acted on in no part.
    [
      'signed, but pollAfterSeconds is text',
      () => {
        server.script.rewrite = (signed) => ({ ...signed, pollAfterSeconds: 'soon' });
      },
      'checkin_malformed',
    ],
    [
      'signed, but without serverTime',
      () => {
        server.script.rewrite = ({ serverTime: _dropped, ...signed }) => signed;
      },
      'checkin_malformed',
    ],
    [
      'signed, but the diagnostics request names no session',
      () => {
        server.script.rewrite = (signed) => ({ ...signed, diagnostics: { collect: ['logs'] } });
      },
      'checkin_malformed',
    ],
  ];
  await checkin(protocol, store, body); // an answer to replay later
  for (const [name, arrange, code] of cases) {
    Object.assign(server.script, { signWith: null, rewrite: null, replayFirstAnswer: false, deviceId: 'emu-0001' });
    arrange();
    t.equal(await codeOf(checkin(protocol, store, body)), code, name);
  }
});

t.test('an answer tampered in transit (pollAfterSeconds changed) fails its signature', async (t) => {
  const { server, protocol, store } = await setup(t);
  await checkin(protocol, store, body);
  const document = structuredClone(server.seen.answers[0]) as SignedDocument<{ pollAfterSeconds: number; nonce: string }>;
  document.signed.pollAfterSeconds = 86400 * 365; // freeze the device by never polling again
  t.equal(
    await codeOf(Promise.resolve().then(() => verifyCheckinAnswer(document, store, document.signed.nonce, 'emu-0001', new Date()))),
    'checkin_signature_invalid',
  );
});

t.test('freeze: an answer the server dated "now" is refused once the device clock passes expires', async (t) => {
  const { server, protocol, store, clock } = await setup(t);
  // The server's clock is stuck an hour back (or an attacker holds an old answer for this nonce).
  const stuck = new Date(clock.now().getTime() - 3600_000);
  server.script.rewrite = (signed) => ({
    ...signed,
    serverTime: stuck.toISOString(),
    expires: new Date(stuck.getTime() + 60_000).toISOString(),
  });
  t.equal(await codeOf(checkin(protocol, store, body)), 'checkin_expired');
});

t.test('server unreachable, and a non-200 answer', async (t) => {
  const { server, protocol, store } = await setup(t);
  server.script.unreachable = true;
  t.equal(await codeOf(checkin(protocol, store, body)), 'server_unreachable');
  server.script.unreachable = false;
  t.equal(await codeOf(checkin({ ...protocol, token: 'wrong' }, store, body)), 'server_error');
});

t.test('root rotation: walked version by version; a bad next root is refused', async (t) => {
  const { server, protocol, store, trust, clock } = await setup(t);
  t.equal(await updateRoots(protocol, store), 0, 'nothing newer: a 404 ends the walk');
  const release2 = generateKeyPair().privateKey;
  const root2Key = generateKeyPair().privateKey;
  const expires = new Date(clock.now().getTime() + 86400_000 * 365);
  const root2 = createRoot({
    version: 2,
    expires,
    roles: { root: { keys: [root2Key] }, release: { keys: [release2] }, server: { keys: [trust.keys.server] } },
  });
  server.script.roots[2] = signDocument(root2, [trust.keys.root, root2Key]);
  const manifest = signDocument(manifestFor(Buffer.from('x')), [release2]);
  t.throws(() => store.verifyManifest(manifest, clock.now()), 'the new release key is not trusted yet');
  t.equal(await updateRoots(protocol, store), 1, 'one rotation walked');
  t.equal(store.root.version, 2);
  t.equal(store.verifyManifest(manifest, clock.now()).version, '2.0.0', 'now it is');
  // Version 3 signed only by its own keys (the old root never agreed): refused.
  const root3Key = generateKeyPair().privateKey;
  server.script.roots[3] = signDocument(
    createRoot({ version: 3, expires, roles: { root: { keys: [root3Key] }, release: { keys: [root3Key] }, server: { keys: [root3Key] } } }),
    [root3Key],
  );
  t.equal(await codeOf(updateRoots(protocol, store)), 'root_invalid');
  t.equal(store.root.version, 2, 'still on version 2');
});

t.test('diagnostics: one multipart part named bundle; a 403 (no live consent) is an error', async (t) => {
  const { server, protocol } = await setup(t);
  await uploadDiagnostics(protocol, 'session-1', Buffer.from('gzip bytes'));
  t.equal(server.seen.uploads.length, 1);
  t.match(server.seen.uploads[0].contentType, /^multipart\/form-data; boundary=/);
  t.match(server.seen.uploads[0].body.toString(), /name="bundle"; filename="diagnostics\.json\.gz"[\s\S]*gzip bytes/);
  server.script.diagnosticsStatus = 403;
  await t.rejects(uploadDiagnostics(protocol, 'session-1', Buffer.from('x')));
});
