// Release manifests (DESIGN.md, "Trust model"): the shape is checked field by field, the
// signatures against the root's release role, and `expires` against the clock.
import t from 'tap';
import { signDocument } from '../../signing/signed.js';
import { createManifest, validateManifestShape, verifyManifest } from '../../signing/manifest.js';
import { ExpiredError, ManifestInvalidError, SignatureError } from '../../signing/errors.js';
import { makeManifest, makeRoot, newKey, newKeys, now } from './helpers.js';

const [rootKey, release, server] = newKeys(3);
const root = makeRoot({ root: [rootKey], release: [release], server: [server] });

t.test('createManifest fills the defaults and validates', async (t) => {
  const before = Date.now();
  const manifest = createManifest({
    product: 'emu',
    version: '2.1.0',
    hardware: ['emu-hw-1'],
    artifact: { name: 'a.img', size: 0, sha256: 'b'.repeat(64) },
  });
  t.match(manifest, { type: 'release', fixes: [], notes: '' });
  t.ok(Date.parse(manifest.createdAt) >= before - 1000 && Date.parse(manifest.createdAt) <= Date.now(), 'createdAt is now');
  t.throws(
    () => createManifest({ product: 'emu', version: 'latest', hardware: ['x'], artifact: { name: 'a', size: 0, sha256: 'b'.repeat(64) } }),
    /"version"/,
  );
});

t.test('shape errors name the field', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ type: 'root' }, 'type'],
    [{ product: '' }, 'product'],
    [{ product: '../etc' }, 'product'],
    [{ version: 'v2' }, 'version'],
    [{ version: '2.0' }, 'version'],
    [{ hardware: [] }, 'hardware'],
    [{ hardware: 'emu-hw-1' }, 'hardware'],
    [{ hardware: [''] }, 'hardware'],
    [{ artifact: null }, 'artifact'],
    [{ artifact: { name: '', size: 1, sha256: 'a'.repeat(64) } }, 'artifact.name'],
    [{ artifact: { name: '../../boot.img', size: 1, sha256: 'a'.repeat(64) } }, 'artifact.name'],
    [{ artifact: { name: 'a', size: -1, sha256: 'a'.repeat(64) } }, 'artifact.size'],
    [{ artifact: { name: 'a', size: 1.5, sha256: 'a'.repeat(64) } }, 'artifact.size'],
    [{ artifact: { name: 'a', size: '3', sha256: 'a'.repeat(64) } }, 'artifact.size'],
    [{ artifact: { name: 'a', size: 1, sha256: 'A'.repeat(64) } }, 'artifact.sha256'],
    [{ artifact: { name: 'a', size: 1, sha256: 'a'.repeat(63) } }, 'artifact.sha256'],
    [{ minVersion: '1' }, 'minVersion'],
    [{ fixes: 'F-1' }, 'fixes'],
    [{ fixes: [1] }, 'fixes'],
    [{ notes: null }, 'notes'],
    [{ createdAt: 'yesterday' }, 'createdAt'],
    [{ createdAt: '2026-11-25' }, 'createdAt'],
    [{ expires: 'Nov 25 2027' }, 'expires'],
    [{ downgrade: 'yes' }, 'downgrade'],
    [{ replaces: 7 } as never, 'replaces'],
    [{ replaces: '' }, 'replaces'],
    [{ replaces: 'any older one' }, 'replaces'],
    [{ downgrade: true }, 'replaces'],
  ];
  for (const [change, field] of cases) {
    const message = new RegExp(`^manifest field "${field.replace('.', '\\.')}" `);
    t.throws(
      () => validateManifestShape(makeManifest(change as never)),
      { constructor: ManifestInvalidError, code: 'manifest_invalid', message },
      `${JSON.stringify(change)} names ${field}`,
    );
    // Through verifyManifest too, even when properly signed.
    t.throws(() => verifyManifest(root, signDocument(makeManifest(change as never), [release]), now), ManifestInvalidError);
  }
  t.throws(() => validateManifestShape(null), /"signed"/);
  t.throws(() => verifyManifest(root, null as never, now), ManifestInvalidError, 'no document at all');
  t.ok(
    validateManifestShape(
      makeManifest({ minVersion: '1.2.0', expires: '2027-01-01T00:00:00+01:00', downgrade: true, replaces: '>=2.1.0 <2.3.0' }),
    ),
    'the optional fields, well-formed',
  );
  t.ok(validateManifestShape(makeManifest({ replaces: '>=1.0.0' })), 'replaces without downgrade bounds an upgrade');
  t.ok(validateManifestShape(makeManifest({ downgrade: false })), 'downgrade: false needs no replaces');
});

t.test('only the release role signs manifests', async (t) => {
  const manifest = makeManifest();
  t.equal(verifyManifest(root, signDocument(manifest, [release]), now).version, '2.0.0', 'a release key: accepted');
  t.throws(() => verifyManifest(root, signDocument(manifest, [rootKey]), now), SignatureError, 'a root key is not a release key');
  t.throws(() => verifyManifest(root, signDocument(manifest, [server]), now), SignatureError, 'nor is the server key');
  t.throws(() => verifyManifest(root, signDocument(manifest, [newKey()]), now), SignatureError, 'nor a stranger');
  t.throws(() => verifyManifest(root, { signed: manifest, signatures: [] }, now), SignatureError, 'unsigned');
  const signed = signDocument(manifest, [release]);
  // Mix-and-match: the digest of another build under this signature.
  t.throws(
    () => verifyManifest(root, { ...signed, signed: { ...manifest, artifact: { ...manifest.artifact, sha256: 'c'.repeat(64) } } }, now),
    SignatureError,
    'a swapped digest',
  );
  t.throws(
    () => verifyManifest(root, { ...signed, signed: { ...manifest, hardware: ['other-hw'] } }, now),
    SignatureError,
    'swapped hardware',
  );
});

t.test('a downgrade and the versions it replaces are signed with the rest', async (t) => {
  const manifest = makeManifest({ version: '1.9.0', downgrade: true, replaces: '>=2.0.0 <2.1.0' });
  const signed = signDocument(manifest, [release]);
  t.match(verifyManifest(root, signed, now), { downgrade: true, replaces: '>=2.0.0 <2.1.0' });
  t.throws(() => verifyManifest(root, { ...signed, signed: { ...manifest, replaces: '*' } }, now), SignatureError, 'a widened range');
  t.throws(
    () => verifyManifest(root, { ...signed, signed: { ...manifest, downgrade: undefined, replaces: undefined } }, now),
    SignatureError,
    'the fields dropped',
  );
  const { downgrade, replaces, ...old } = manifest;
  t.ok(
    verifyManifest(root, signDocument({ ...old, version: '2.1.0' }, [release]), now),
    'an old upgrade manifest without either field stays valid',
  );
});

t.test('a threshold of release keys', async (t) => {
  const releases = newKeys(3);
  const strict = makeRoot({ root: [rootKey], release: releases, releaseThreshold: 2 });
  t.ok(verifyManifest(strict, signDocument(makeManifest(), releases.slice(1)), now));
  t.throws(() => verifyManifest(strict, signDocument(makeManifest(), [releases[0]]), now), SignatureError);
});

t.test('an expired manifest is refused', async (t) => {
  t.throws(() => verifyManifest(root, signDocument(makeManifest({ expires: '2026-11-24T23:59:59Z' }), [release]), now), {
    constructor: ExpiredError,
    code: 'expired',
  });
  t.throws(
    () => verifyManifest(root, signDocument(makeManifest({ expires: now.toISOString() }), [release]), now),
    ExpiredError,
    'at the expiry instant',
  );
  t.ok(verifyManifest(root, signDocument(makeManifest({ expires: '2026-11-25T00:00:01Z' }), [release]), now), 'a second before, accepted');
});
