// Published known answers: RFC 8032 §7.1 (Ed25519) and RFC 8785 (JSON canonicalization), run
// through the functions that sign and verify sluice documents.
import t from 'tap';
import { createPrivateKey, createHash, sign, verify } from 'node:crypto';
import { canonicalize, canonicalBytes } from '../../signing/canonical.js';
import { rawPublicKey, keyIdOf, sha256Hex, publicKeyFromHex } from '../../signing/keys.js';
import { signDocument, verifyThreshold } from '../../signing/signed.js';

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410): the RFC's secret keys imported as is.
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
const privateKeyFromSeed = (seedHex: string) =>
  createPrivateKey({ key: Buffer.concat([pkcs8Prefix, Buffer.from(seedHex, 'hex')]), format: 'der', type: 'pkcs8' });

const rfc8032 = [
  {
    name: 'TEST 1',
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3',
    secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    public: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
  {
    name: 'TEST SHA(abc)',
    secret: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
    public: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
    // The message is the SHA-512 of "abc", 64 bytes.
    message:
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    signature:
      'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704',
  },
];

t.test('RFC 8032 §7.1: public keys and signatures are exactly the published bytes', async (t) => {
  t.equal(createHash('sha512').update('abc').digest('hex'), rfc8032[3].message, 'TEST SHA(abc) signs SHA-512("abc")');
  for (const vector of rfc8032) {
    const key = privateKeyFromSeed(vector.secret);
    t.equal(rawPublicKey(key).toString('hex'), vector.public, `${vector.name}: public key`);
    t.equal(keyIdOf(key), sha256Hex(Buffer.from(vector.public, 'hex')), `${vector.name}: the key id is the SHA-256 of the raw public key`);
    t.equal(rawPublicKey(publicKeyFromHex(vector.public)).toString('hex'), vector.public, `${vector.name}: the hex form imports back`);
  }
});

t.test('RFC 8032 §7.1: signatures are exactly the published bytes, and verify', async (t) => {
  for (const vector of rfc8032) {
    const key = privateKeyFromSeed(vector.secret);
    const message = Buffer.from(vector.message, 'hex');
    const signature = sign(null, message, key);
    t.equal(signature.toString('hex'), vector.signature, `${vector.name}: signature`);
    t.ok(
      verify(null, message, publicKeyFromHex(vector.public), signature),
      `${vector.name}: verifies with the public key from its hex form`,
    );
    const flipped = Buffer.from(signature);
    flipped[63] ^= 0x01;
    t.notOk(verify(null, message, publicKeyFromHex(vector.public), flipped), `${vector.name}: one flipped bit fails`);
  }
});

t.test('a document signed with an RFC 8032 key verifies through verifyThreshold', async (t) => {
  const key = privateKeyFromSeed(rfc8032[0].secret);
  const keyid = sha256Hex(Buffer.from(rfc8032[0].public, 'hex'));
  const keys = { [keyid]: { keytype: 'ed25519' as const, public: rfc8032[0].public } };
  const role = { keyids: [keyid], threshold: 1 };
  const document = signDocument({ hello: 'world' }, [key]);
  t.equal(document.signatures[0].keyid, keyid);
  // Ed25519 is deterministic: the signature is the one over the canonical bytes, whatever the member order.
  t.equal(document.signatures[0].sig, sign(null, Buffer.from('{"hello":"world"}'), key).toString('base64'));
  t.same(verifyThreshold(document, keys, role, 'test'), [keyid]);
});

t.test('RFC 8785 §3.2.2: literals, numbers and string escapes', async (t) => {
  const input = JSON.parse(
    '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
  );
  const expected =
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
  t.equal(canonicalize(input), expected);
  // §3.2.4: the same output as UTF-8 bytes ("€" is e2 82 ac).
  const bytes = [
    '7b226c69746572616c73223a5b6e756c6c2c7472',
    '75652c66616c73655d2c226e756d62657273223a',
    '5b3333333333333333332e333333333333332c31',
    '652b33302c342e352c302e3030322c31652d3237',
    '5d2c22737472696e67223a22e282ac245c753030',
    '30665c6e4127425c225c5c5c5c5c222f227d',
  ].join('');
  t.equal(canonicalBytes(input).toString('hex'), bytes, 'UTF-8 bytes');
});

t.test('RFC 8785 §3.2.3: members sorted by UTF-16 code units, non-ASCII names included', async (t) => {
  const input = JSON.parse(
    '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}',
  );
  t.equal(
    canonicalize(input),
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  );
  // U+1F600 (surrogates d83d de00) sorts before U+FB33 by code units, after it by code points.
  t.ok(canonicalize({ '\ufb33': 1, '\ud83d\ude00': 2 }).startsWith('{"\ud83d\ude00"'));
  // Integer-like names sort as text: JavaScript enumerates "9" before "10", JCS does not.
  t.equal(canonicalize({ 9: 'a', 10: 'b', a: 'c' }), '{"10":"b","9":"a","a":"c"}');
});

t.test('RFC 8785 Appendix B: number serialization', async (t) => {
  const table: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  for (const [bits, expected] of table) {
    t.equal(canonicalize(Buffer.from(bits, 'hex').readDoubleBE(0)), expected, `0x${bits}`);
  }
  const more: [number, string][] = [
    [1e21, '1e+21'],
    [1e20, '100000000000000000000'],
    [1e-7, '1e-7'],
    [0.000001, '0.000001'],
    [-0, '0'],
    [4.5, '4.5'],
    [-1.5e-9, '-1.5e-9'],
  ];
  for (const [value, expected] of more) t.equal(canonicalize(value), expected, `${expected}`);
  for (const bits of ['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000']) {
    t.throws(
      () => canonicalize(Buffer.from(bits, 'hex').readDoubleBE(0)),
      /cannot hold the number/,
      `0x${bits} (NaN or an infinity) is refused`,
    );
  }
});
