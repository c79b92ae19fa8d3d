// Thresholds, root rotation, manifests and the trust store.
import t from 'tap';
import { generateKeyPair } from '../../signing/keys.js';
import { signDocument, verifyThreshold } from '../../signing/signed.js';
import { createRoot, verifyRoot, verifyRootUpdate, type Root } from '../../signing/root.js';
import { createManifest, verifyManifest } from '../../signing/manifest.js';
import { TrustStore } from '../../signing/trust-store.js';
import { SignatureError, ExpiredError, RootVersionError, ManifestInvalidError } from '../../signing/errors.js';

const now = new Date('2026-11-25T00:00:00Z');
const later = new Date('2027-11-25T00:00:00Z');
const keys = () => generateKeyPair().privateKey;

function makeRoot(options: { version?: number; root: ReturnType<typeof keys>[]; rootThreshold?: number; release: ReturnType<typeof keys>[]; releaseThreshold?: number; server?: ReturnType<typeof keys>[]; expires?: Date }) {
  return createRoot({
    version: options.version ?? 1,
    expires: options.expires ?? later,
    roles: {
      root: { keys: options.root, threshold: options.rootThreshold ?? 1 },
      release: { keys: options.release, threshold: options.releaseThreshold ?? 1 },
      server: { keys: options.server ?? [keys()] },
    },
  });
}

const manifest = createManifest({ product: 'emu', version: '2.0.0', hardware: ['hw1'], artifact: { name: 'a.bin', size: 3, sha256: 'a'.repeat(64) }, createdAt: now.toISOString() });

t.test('threshold: 2 of 3 release keys', async (t) => {
  const [a, b, c] = [keys(), keys(), keys()];
  const root = makeRoot({ root: [keys()], release: [a, b, c], releaseThreshold: 2 });
  t.equal(verifyManifest(root, signDocument(manifest, [a, b]), now).version, '2.0.0', 'two distinct keys pass');
  t.throws(() => verifyManifest(root, signDocument(manifest, [a]), now), SignatureError, 'one key is below the threshold');
  const once = signDocument(manifest, [a]);
  t.throws(() => verifyManifest(root, { ...once, signatures: [once.signatures[0], once.signatures[0]] }, now), SignatureError, 'the same signature twice counts once');
  t.throws(() => verifyManifest(root, signDocument(manifest, [a, keys()]), now), SignatureError, 'a key outside the role counts for nothing');
  const tampered = signDocument(manifest, [a, b]);
  t.throws(() => verifyManifest(root, { ...tampered, signed: { ...manifest, version: '9.0.0' } }, now), SignatureError, 'changing what was signed breaks it');
  t.same(verifyThreshold(signDocument(manifest, [a, b, c]), root.keys, root.roles.release, 'release').length, 3);
});

t.test('manifests: shape errors name the field; expiry is enforced', async (t) => {
  const release = keys();
  const root = makeRoot({ root: [keys()], release: [release] });
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ version: 'v2' }, /"version"/],
    [{ hardware: [] }, /"hardware"/],
    [{ artifact: { name: 'a', size: -1, sha256: 'a'.repeat(64) } }, /"artifact.size"/],
    [{ artifact: { name: 'a', size: 1, sha256: 'XYZ' } }, /"artifact.sha256"/],
    [{ type: 'root' }, /"type"/],
    [{ fixes: 'F1' }, /"fixes"/],
  ];
  for (const [change, field] of cases) {
    t.throws(() => verifyManifest(root, signDocument({ ...manifest, ...change }, [release]), now), { constructor: ManifestInvalidError, message: field });
  }
  const expiring = signDocument({ ...manifest, expires: '2026-11-24T00:00:00Z' }, [release]);
  t.throws(() => verifyManifest(root, expiring, now), ExpiredError);
});

t.test('root rotation needs a threshold of the old root keys and of the new', async (t) => {
  const [oldRoot, newRoot] = [keys(), keys()];
  const v1 = makeRoot({ root: [oldRoot], release: [keys()] });
  t.same(verifyRoot(signDocument(v1, [oldRoot]), now).version, 1);
  const v2 = makeRoot({ version: 2, root: [newRoot], release: [keys()] });
  t.equal(verifyRootUpdate(v1, signDocument(v2, [oldRoot, newRoot]), now).version, 2, 'signed by both: accepted');
  t.throws(() => verifyRootUpdate(v1, signDocument(v2, [newRoot]), now), SignatureError, 'only the new keys: refused');
  t.throws(() => verifyRootUpdate(v1, signDocument(v2, [oldRoot]), now), SignatureError, 'only the old keys: refused');
  const v3 = makeRoot({ version: 3, root: [newRoot], release: [keys()] });
  t.throws(() => verifyRootUpdate(v1, signDocument(v3, [oldRoot, newRoot]), now), RootVersionError, 'versions are walked one by one');
});

t.test('the trust store walks rotations, removes a compromised release key, refuses an expired root', async (t) => {
  const [rootKey1, rootKey2, compromised, replacement] = [keys(), keys(), keys(), keys()];
  const v1: Root = makeRoot({ root: [rootKey1], release: [compromised] });
  const v2: Root = makeRoot({ version: 2, root: [rootKey1], release: [replacement] });
  const v3: Root = makeRoot({ version: 3, root: [rootKey2], release: [replacement] });
  const chain = new Map([[2, signDocument(v2, [rootKey1])], [3, signDocument(v3, [rootKey1, rootKey2])]]);
  const store = TrustStore.fromPinnedRoot(signDocument(v1, [rootKey1]), now);
  const oldRelease = signDocument(manifest, [compromised]);
  t.ok(store.verifyManifest(oldRelease, now), 'before the rotation the compromised key is trusted');
  await store.walkRoots(async (version) => chain.get(version) ?? null, now);
  t.equal(store.root.version, 3);
  t.throws(() => store.verifyManifest(oldRelease, now), SignatureError, 'after the rotation it is not');
  t.ok(store.verifyManifest(signDocument(manifest, [replacement]), now));

  const expired = makeRoot({ root: [rootKey1], release: [replacement], expires: new Date('2026-01-01T00:00:00Z') });
  const stale = TrustStore.fromPinnedRoot(signDocument(expired, [rootKey1]), now);
  t.throws(() => stale.verifyManifest(signDocument(manifest, [replacement]), now), ExpiredError, 'an expired root verifies nothing');
  await t.rejects(stale.walkRoots(async () => null, now), ExpiredError, 'and walking to nothing newer leaves it expired');

  const server = keys();
  const withServer = makeRoot({ root: [rootKey1], release: [replacement], server: [server] });
  const serverStore = TrustStore.fromPinnedRoot(signDocument(withServer, [rootKey1]), now);
  t.same(serverStore.verifyServerDocument(signDocument({ nonce: 'abc' }, [server]), now), { nonce: 'abc' });
  t.throws(() => serverStore.verifyServerDocument(signDocument({ nonce: 'abc' }, [replacement]), now), SignatureError, 'a release key cannot sign check-in answers');
});
