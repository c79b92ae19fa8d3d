// The trust store: its only ways in verify; devices walk root versions one by one; what it
// hands out was verified against the current root and cannot be changed afterwards.
import t from 'tap';
import { signDocument, type SignedDocument } from '../../signing/signed.js';
import { keyIdOf } from '../../signing/keys.js';
import type { Root } from '../../signing/root.js';
import { TrustStore, maximumRootWalk } from '../../signing/trust-store.js';
import { ExpiredError, ManifestInvalidError, RootVersionError, SignatureError } from '../../signing/errors.js';
import { makeManifest, makeRoot, newKey, newKeys, now } from './helpers.js';

const lastYear = new Date('2026-01-01T00:00:00Z');
type Chain = Map<number, SignedDocument<Root>>;
const fetchFrom =
  (chain: Chain, asked: number[] = []) =>
  async (version: number) => {
    asked.push(version);
    return chain.get(version) ?? null;
  };

t.test('a pinned root must verify on its own', async (t) => {
  const rootKey = newKey();
  const v1 = makeRoot({ root: [rootKey] });
  t.equal(TrustStore.fromPinnedRoot(signDocument(v1, [rootKey]), now).root.version, 1);
  t.throws(() => TrustStore.fromPinnedRoot(signDocument(v1, [newKey()]), now), SignatureError, 'not signed by its own root key');
  t.throws(() => TrustStore.fromPinnedRoot(signDocument({ ...v1, version: -1 }, [rootKey]), now), ManifestInvalidError, 'malformed');
  t.throws(() => TrustStore.fromPinnedRoot(JSON.parse('null'), now), SignatureError, 'no document');
});

t.test('walking several rotations, a compromised release key removed on the way', async (t) => {
  const [rootKey1, rootKey2, rootKey3, compromised, replacement] = newKeys(5);
  const v1 = makeRoot({ root: [rootKey1], release: [compromised] });
  const chain: Chain = new Map([
    [2, signDocument(makeRoot({ version: 2, root: [rootKey1], release: [replacement] }), [rootKey1])],
    [3, signDocument(makeRoot({ version: 3, root: [rootKey2], release: [replacement] }), [rootKey1, rootKey2])],
    [4, signDocument(makeRoot({ version: 4, root: [rootKey3], release: [replacement] }), [rootKey2, rootKey3])],
  ]);
  const store = TrustStore.fromPinnedRoot(signDocument(v1, [rootKey1]), now);
  const byCompromised = signDocument(makeManifest(), [compromised]);
  t.ok(store.verifyManifest(byCompromised, now), 'before the rotation the compromised key is trusted');
  const asked: number[] = [];
  const final = await store.walkRoots(fetchFrom(chain, asked), now);
  t.equal(final.version, 4);
  t.same(asked, [2, 3, 4, 5], 'one version at a time, until there is none');
  t.same(store.root.roles.root.keyids, [keyIdOf(rootKey3)]);
  t.same(store.rootDocument, chain.get(4), 'rootDocument, to persist, is the signed version 4');
  t.throws(() => store.verifyManifest(byCompromised, now), SignatureError, 'after the rotation the compromised key signs nothing');
  t.ok(store.verifyManifest(signDocument(makeManifest(), [replacement]), now), 'the replacement key does');
  await store.walkRoots(fetchFrom(chain), now);
  t.equal(store.root.version, 4, 'walking again with nothing newer changes nothing');
});

t.test('a refused root stops the walk and keeps the last good one', async (t) => {
  const [rootKey, attacker] = newKeys(2);
  const chain: Chain = new Map([
    [2, signDocument(makeRoot({ version: 2, root: [rootKey] }), [rootKey])],
    [3, signDocument(makeRoot({ version: 3, root: [attacker] }), [attacker])],
  ]);
  const store = TrustStore.fromPinnedRoot(signDocument(makeRoot({ root: [rootKey] }), [rootKey]), now);
  await t.rejects(store.walkRoots(fetchFrom(chain), now), SignatureError, 'version 3 lacks the old root key');
  t.equal(store.root.version, 2);
  // A server that answers version N+1 with another version.
  const skipping: Chain = new Map([[3, signDocument(makeRoot({ version: 4, root: [rootKey] }), [rootKey])]]);
  await t.rejects(store.walkRoots(fetchFrom(skipping), now), RootVersionError);
  t.throws(
    () => store.updateRoot(signDocument(makeRoot({ version: 2, root: [rootKey] }), [rootKey]), now),
    RootVersionError,
    'no going back to an older version',
  );
  t.equal(store.root.version, 2);
});

t.test('expiry: intermediate roots may have expired, the final one may not', async (t) => {
  const [rootKey1, rootKey2] = newKeys(2);
  const pinned = signDocument(makeRoot({ root: [rootKey1], expires: lastYear }), [rootKey1]);
  const shelf = TrustStore.fromPinnedRoot(pinned, now);
  t.throws(() => shelf.verifyManifest(signDocument(makeManifest(), [rootKey1]), now), ExpiredError, 'an expired root verifies nothing');
  t.throws(() => shelf.verifyServerDocument({ signed: {}, signatures: [] }, now), ExpiredError, 'not even a check-in answer');
  await t.rejects(
    TrustStore.fromPinnedRoot(pinned, now).walkRoots(fetchFrom(new Map()), now),
    ExpiredError,
    'nothing newer leaves it expired',
  );

  const release = newKey();
  const chain: Chain = new Map([
    [2, signDocument(makeRoot({ version: 2, root: [rootKey1], expires: lastYear }), [rootKey1])],
    [3, signDocument(makeRoot({ version: 3, root: [rootKey2], release: [release] }), [rootKey1, rootKey2])],
  ]);
  await shelf.walkRoots(fetchFrom(chain), now);
  t.equal(shelf.root.version, 3, 'walked through an expired version 2 to a valid version 3');
  t.ok(shelf.verifyManifest(signDocument(makeManifest(), [release]), now));

  const expiredEnd: Chain = new Map([[2, signDocument(makeRoot({ version: 2, root: [rootKey1], expires: lastYear }), [rootKey1])]]);
  const store = TrustStore.fromPinnedRoot(signDocument(makeRoot({ root: [rootKey1] }), [rootKey1]), now);
  await t.rejects(store.walkRoots(fetchFrom(expiredEnd), now), ExpiredError, 'a walk that ends on an expired root is refused');
});

t.test('a walk is bounded', async (t) => {
  // A server that offers a new, validly signed root for ever.
  const rootKey = newKey();
  const cache = new Map<number, SignedDocument<Root>>();
  const endless = async (version: number) => {
    if (!cache.has(version)) cache.set(version, signDocument(makeRoot({ version, root: [rootKey] }), [rootKey]));
    return cache.get(version)!;
  };
  const store = TrustStore.fromPinnedRoot(signDocument(makeRoot({ root: [rootKey] }), [rootKey]), now);
  await store.walkRoots(endless, now);
  t.equal(store.root.version, 1 + maximumRootWalk, `stops after ${maximumRootWalk} steps`);
});

t.test('what the store holds cannot be changed from outside', async (t) => {
  const [rootKey, release] = newKeys(2);
  const pinned = signDocument(makeRoot({ root: [rootKey], release: [release] }), [rootKey]);
  const store = TrustStore.fromPinnedRoot(pinned, now);
  // The caller still holds its document: adding a key to it must not add one to the store.
  const intruder = newKey();
  pinned.signed.roles.release.keyids.push(keyIdOf(intruder));
  pinned.signed.keys[keyIdOf(intruder)] = { keytype: 'ed25519', public: '' };
  t.throws(
    () => store.verifyManifest(signDocument(makeManifest(), [intruder]), now),
    SignatureError,
    "a key added to the caller's copy is not trusted",
  );
  t.throws(
    () => {
      (store.root.roles.release.keyids as string[]).push('x');
    },
    TypeError,
    'the root is frozen',
  );

  const document = signDocument(makeManifest(), [release]);
  const verified = store.verifyManifest(document, now);
  document.signed.artifact.sha256 = 'f'.repeat(64);
  t.equal(verified.artifact.sha256, 'a'.repeat(64), 'changing the document afterwards does not change the verified manifest');
  t.throws(
    () => {
      (verified.artifact as { size: number }).size = 1e12;
    },
    TypeError,
    'the verified manifest is deeply frozen',
  );
  t.throws(() => {
    (verified.hardware as string[]).push('any');
  }, TypeError);
});

t.test('server documents verify against the server role only', async (t) => {
  const [rootKey, release, server, newServer] = newKeys(4);
  const store = TrustStore.fromPinnedRoot(
    signDocument(makeRoot({ root: [rootKey], release: [release], server: [server] }), [rootKey]),
    now,
  );
  const answer = { type: 'checkin', nonce: 'abc' };
  const document = signDocument(answer, [server]);
  const verified = store.verifyServerDocument<typeof answer>(document, now);
  t.same(verified, answer);
  t.not(verified, document.signed, 'a copy of what was verified');
  t.throws(
    () => store.verifyServerDocument(signDocument(answer, [release]), now),
    SignatureError,
    'a release key cannot sign check-in answers',
  );
  t.throws(() => store.verifyServerDocument(signDocument(answer, [rootKey]), now), SignatureError, 'nor a root key');
  t.throws(() => store.verifyServerDocument({ ...document, signed: { ...answer, nonce: 'abd' } }, now), SignatureError, 'a changed answer');
  // Rotating the server key (root version 2) retires the old one.
  store.updateRoot(signDocument(makeRoot({ version: 2, root: [rootKey], release: [release], server: [newServer] }), [rootKey]), now);
  t.throws(() => store.verifyServerDocument(document, now), SignatureError, 'the retired server key');
  t.ok(store.verifyServerDocument(signDocument(answer, [newServer]), now));
});

// Type-level: a VerifiedManifest comes only from the store (this line must not compile).
// @ts-expect-error a plain manifest is not a VerifiedManifest
const forged: import('../../signing/trust-store.js').VerifiedManifest = makeManifest();
void forged;
