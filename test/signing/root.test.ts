// root.json: creation, verification on its own, and rotation (DESIGN.md: "A new root (key
// rotation) must be signed by a threshold of the old root's root keys and of its own").
import t from 'tap';
import { signDocument } from '../../signing/signed.js';
import { keyIdOf } from '../../signing/keys.js';
import { createRoot, validateRootShape, verifyRoot, verifyRootUpdate, type Root } from '../../signing/root.js';
import { ExpiredError, ManifestInvalidError, RootVersionError, SignatureError } from '../../signing/errors.js';
import { makeRoot, newKey, newKeys, now, nextYear } from './helpers.js';

t.test('createRoot lists each role with its keys and thresholds', async (t) => {
  const [root, release1, release2, server] = newKeys(4);
  const document = createRoot({
    expires: nextYear,
    roles: { root: { keys: [root] }, release: { keys: [release1, release2], threshold: 2 }, server: { keys: [server] } },
  });
  t.match(document, { type: 'root', version: 1, expires: '2027-11-25T00:00:00.000Z' });
  t.same(document.roles.release, { keyids: [keyIdOf(release1), keyIdOf(release2)], threshold: 2 });
  t.same(document.roles.root, { keyids: [keyIdOf(root)], threshold: 1 }, 'threshold 1 unless given');
  t.same(Object.keys(document.keys).sort(), [root, release1, release2, server].map((key) => keyIdOf(key)).sort());
  t.throws(
    () =>
      createRoot({
        expires: nextYear,
        roles: { root: { keys: [root], threshold: 2 }, release: { keys: [release1] }, server: { keys: [server] } },
      }),
    ManifestInvalidError,
    'a threshold above the number of keys',
  );
});

t.test('verifyRoot: self-signed by its root threshold, well-formed, not expired', async (t) => {
  const [rootA, rootB, rootC] = newKeys(3);
  const root = makeRoot({ root: [rootA, rootB, rootC], rootThreshold: 2 });
  t.equal(verifyRoot(signDocument(root, [rootA, rootC]), now).version, 1);
  t.throws(() => verifyRoot(signDocument(root, [rootA]), now), SignatureError, 'below its own root threshold');
  t.throws(() => verifyRoot(signDocument(root, [newKey(), newKey()]), now), SignatureError, 'signed by strangers');
  t.throws(() => verifyRoot(signDocument(root, [rootA, rootB]), nextYear), ExpiredError, 'at its expiry instant');
  t.throws(() => verifyRoot(signDocument({ ...root, type: 'release' }, [rootA, rootB]), now), ManifestInvalidError, 'not a root');
});

t.test('validateRootShape names the bad field', async (t) => {
  const key = newKey();
  const root = makeRoot({ root: [key] });
  const id = keyIdOf(key);
  const otherId = Object.keys(root.keys).find((keyid) => keyid !== id)!;
  const cases: [string, (copy: Root) => void, RegExp][] = [
    [
      'version 0',
      (copy) => {
        copy.version = 0;
      },
      /"version"/,
    ],
    [
      'version as text',
      (copy) => {
        (copy as { version: unknown }).version = '2';
      },
      /"version"/,
    ],
    [
      'expires not ISO',
      (copy) => {
        copy.expires = 'Nov 25 2027';
      },
      /"expires"/,
    ],
    [
      'a key of another type',
      (copy) => {
        (copy.keys[id] as { keytype: string }).keytype = 'rsa';
      },
      /"keys\.[0-9a-f]+\.keytype"/,
    ],
    [
      'a key listed under an id that is not its hash',
      (copy) => {
        copy.keys[id] = copy.keys[otherId];
      },
      /is not the SHA-256 of its public key/,
    ],
    [
      'a role naming a missing key',
      (copy) => {
        copy.roles.release.keyids = ['f'.repeat(64)];
      },
      /"roles\.release\.keyids" names a key not in "keys"/,
    ],
    [
      'a role listing a key twice',
      (copy) => {
        copy.roles.root = { keyids: [id, id], threshold: 2 };
      },
      /lists a key twice/,
    ],
    [
      'an unreachable threshold',
      (copy) => {
        copy.roles.server.threshold = 2;
      },
      /"roles\.server\.threshold" is 2 with only 1 key/,
    ],
    [
      'a missing role',
      (copy) => {
        delete (copy.roles as Partial<Root['roles']>).server;
      },
      /"roles\.server\.keyids"/,
    ],
  ];
  for (const [name, change, message] of cases) {
    const copy = structuredClone(root);
    change(copy);
    t.throws(() => validateRootShape(copy), { constructor: ManifestInvalidError, message }, name);
  }
});

t.test('rotation needs a threshold of the old root keys and of the new', async (t) => {
  const [oldRoot, newRoot] = newKeys(2);
  const v1 = makeRoot({ root: [oldRoot] });
  const v2 = makeRoot({ version: 2, root: [newRoot] });
  t.equal(verifyRootUpdate(v1, signDocument(v2, [oldRoot, newRoot]), now).version, 2, 'signed by both: accepted');
  t.throws(
    () => verifyRootUpdate(v1, signDocument(v2, [newRoot]), now),
    { constructor: SignatureError, message: /old root/ },
    'only the new keys: refused',
  );
  t.throws(
    () => verifyRootUpdate(v1, signDocument(v2, [oldRoot]), now),
    { constructor: SignatureError, message: /new root/ },
    'only the old keys: refused',
  );
  const v3 = makeRoot({ version: 3, root: [newRoot] });
  t.throws(() => verifyRootUpdate(v1, signDocument(v3, [oldRoot, newRoot]), now), RootVersionError, 'a version skipped');
  t.throws(() => verifyRootUpdate(v1, signDocument(v1, [oldRoot]), now), RootVersionError, 'the same version again');
  const expired = makeRoot({ version: 2, root: [newRoot], expires: new Date('2026-01-01T00:00:00Z') });
  t.equal(
    verifyRootUpdate(v1, signDocument(expired, [oldRoot, newRoot]), now).version,
    2,
    'an intermediate root may have expired (TUF 5.3)',
  );
});

t.test('rotation with thresholds above one: 2 of 3 old and 2 of 3 new', async (t) => {
  const old = newKeys(3);
  const fresh = [old[2], ...newKeys(2)];
  const v1 = makeRoot({ root: old, rootThreshold: 2 });
  const v2 = makeRoot({ version: 2, root: fresh, rootThreshold: 2 });
  t.equal(verifyRootUpdate(v1, signDocument(v2, [old[0], old[2], fresh[1]]), now).version, 2, 'a key in both roots counts for each');
  t.throws(() => verifyRootUpdate(v1, signDocument(v2, [old[0], fresh[1], fresh[2]]), now), SignatureError, 'one old key is not enough');
  t.throws(() => verifyRootUpdate(v1, signDocument(v2, [old[0], old[1], fresh[1]]), now), SignatureError, 'one new key is not enough');
});
