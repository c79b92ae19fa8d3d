// verifyThreshold: "key compromise (thresholds...)" (DESIGN.md, "Trust model") only holds if
// one key can never count twice and keys outside the role count for nothing.
import t from 'tap';
import { signDocument, verifyThreshold, type SignedDocument } from '../../signing/signed.js';
import { keyIdOf, rawPublicKey, sha256Hex } from '../../signing/keys.js';
import { rootKeyOf } from '../../signing/root.js';
import { SignatureError } from '../../signing/errors.js';
import { newKey, newKeys } from './helpers.js';

const payload = { type: 'release', product: 'emu', version: '2.0.0' };
const [a, b, c] = newKeys(3);
const keys = Object.fromEntries([a, b, c].map((key) => [keyIdOf(key), rootKeyOf(key)]));
const twoOfThree = { keyids: [a, b, c].map((key) => keyIdOf(key)), threshold: 2 };
const check = (document: SignedDocument<unknown>) => verifyThreshold(document, keys, twoOfThree, 'release');

t.test('2 of 3: two distinct keys pass, one does not', async (t) => {
  t.same(check(signDocument(payload, [a, b])).sort(), [keyIdOf(a), keyIdOf(b)].sort(), 'returns the key ids that verified');
  t.same(check(signDocument(payload, [a, b, c])).length, 3);
  t.throws(() => check(signDocument(payload, [c])), SignatureError, 'one key is below the threshold');
  t.throws(() => check({ signed: payload, signatures: [] }), {
    code: 'signature_invalid',
    message: /0 valid signature\(s\) by release keys; the threshold is 2/,
  });
});

t.test('the same key twice counts once', async (t) => {
  const once = signDocument(payload, [a]);
  t.throws(
    () => check({ signed: payload, signatures: [once.signatures[0], once.signatures[0]] }),
    SignatureError,
    'an identical signature repeated',
  );
  t.throws(() => check(signDocument(payload, [a, a])), SignatureError, 'the key used twice to sign');
  // A second encoding of the same bytes (base64 without padding) is still the same key.
  const unpadded = { keyid: once.signatures[0].keyid, sig: once.signatures[0].sig.replace(/=+$/, '') };
  t.throws(() => check({ signed: payload, signatures: [once.signatures[0], unpadded] }), SignatureError, 'the same signature re-encoded');
});

t.test('signatures by keys outside the role count for nothing', async (t) => {
  const stranger = newKey();
  t.throws(() => check(signDocument(payload, [a, stranger])), SignatureError, 'a key the root does not list');
  // A key that root.json lists, but for another role.
  const server = newKey();
  const withServer = { ...keys, [keyIdOf(server)]: rootKeyOf(server) };
  t.throws(
    () => verifyThreshold(signDocument(payload, [a, server]), withServer, twoOfThree, 'release'),
    SignatureError,
    'a key of another role',
  );
  // A signature claiming an authorised key id but made with another key.
  const forged = { keyid: keyIdOf(b), sig: signDocument(payload, [stranger]).signatures[0].sig };
  t.throws(
    () => check({ signed: payload, signatures: [signDocument(payload, [a]).signatures[0], forged] }),
    SignatureError,
    'a borrowed key id',
  );
});

t.test('one key listed under two ids does not reach a threshold of two', async (t) => {
  // A careless (or malicious) root that lists the same public key twice under made-up ids.
  const raw = rawPublicKey(a).toString('hex');
  const aliased = { 'id-one': { keytype: 'ed25519' as const, public: raw }, 'id-two': { keytype: 'ed25519' as const, public: raw } };
  const signature = signDocument(payload, [a]).signatures[0].sig;
  const document = {
    signed: payload,
    signatures: [
      { keyid: 'id-one', sig: signature },
      { keyid: 'id-two', sig: signature },
    ],
  };
  t.throws(() => verifyThreshold(document, aliased, { keyids: ['id-one', 'id-two'], threshold: 2 }, 'release'), SignatureError);
  t.equal(sha256Hex(Buffer.from(raw, 'hex')), keyIdOf(a), 'a key id is the SHA-256 of the raw public key');
});

t.test('changing what was signed breaks every signature', async (t) => {
  const document = signDocument(payload, [a, b]);
  t.throws(() => check({ ...document, signed: { ...payload, version: '9.0.0' } }), SignatureError, 'a changed value');
  t.throws(() => check({ ...document, signed: { ...payload, extra: true } }), SignatureError, 'an added member');
  t.same(
    check({ ...document, signed: { version: '2.0.0', product: 'emu', type: 'release' } }).length,
    2,
    'member order is not part of what is signed',
  );
});

t.test('malformed documents and signatures are refused with SignatureError, never a crash', async (t) => {
  const good = signDocument(payload, [a]).signatures[0];
  const junk: unknown[] = [
    null,
    'x',
    42,
    { keyid: 1, sig: good.sig },
    { keyid: good.keyid },
    { keyid: good.keyid, sig: 'not base64 !!' },
    { keyid: good.keyid, sig: '' },
  ];
  t.throws(() => check({ signed: payload, signatures: junk as never }), SignatureError, 'junk entries are not signatures');
  t.same(
    check({ signed: payload, signatures: [...junk, good, signDocument(payload, [b]).signatures[0]] as never }).length,
    2,
    'junk beside good signatures is ignored',
  );
  t.throws(() => check(null as never), SignatureError, 'no document');
  t.throws(() => check({ signed: payload } as never), SignatureError, 'no signatures list');
  t.throws(
    () => check({ signed: { n: Number.NaN }, signatures: [good] }),
    { code: 'signature_invalid', message: /not canonical JSON/ },
    'a document that cannot be canonicalized',
  );
  t.throws(
    () => verifyThreshold(signDocument(payload, [a]), keys, { keyids: [keyIdOf(a)], threshold: 0 }, 'release'),
    SignatureError,
    'a threshold of 0 verifies nothing',
  );
});
