// Published known-answer vectors: RFC 8032 §7.1 (Ed25519) and RFC 8785 (JSON
// canonicalization), run through the same code paths that sign and verify sluice documents.
import t from 'tap';
import { createPrivateKey, sign, verify } from 'node:crypto';
import { canonicalize } from '../../signing/canonical.js';
import { rawPublicKey, keyIdOf, sha256Hex } from '../../signing/keys.js';

const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
const privateKeyFromSeed = (seedHex: string) => createPrivateKey({ key: Buffer.concat([pkcs8Prefix, Buffer.from(seedHex, 'hex')]), format: 'der', type: 'pkcs8' });

const rfc8032 = [
  {
    name: 'TEST 1 (empty message)',
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2 (one byte)',
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3 (two bytes)',
    secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    public: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

t.test('RFC 8032 §7.1 Ed25519 vectors', async (t) => {
  for (const vector of rfc8032) {
    const key = privateKeyFromSeed(vector.secret);
    t.equal(rawPublicKey(key).toString('hex'), vector.public, `${vector.name}: public key`);
    t.equal(keyIdOf(key), sha256Hex(Buffer.from(vector.public, 'hex')), `${vector.name}: key id is the SHA-256 of the raw public key`);
    const signature = sign(null, Buffer.from(vector.message, 'hex'), key);
    t.equal(signature.toString('hex'), vector.signature, `${vector.name}: signature`);
    t.ok(verify(null, Buffer.from(vector.message, 'hex'), key, signature), `${vector.name}: verifies`);
    const flipped = Buffer.from(signature);
    flipped[0] ^= 1;
    t.notOk(verify(null, Buffer.from(vector.message, 'hex'), key, flipped), `${vector.name}: a flipped bit fails`);
  }
});

t.test('RFC 8785 §3.2.2 sample: literals, numbers and string escapes', async (t) => {
  const input = JSON.parse('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}');
  t.equal(canonicalize(input), '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
});

t.test('RFC 8785 §3.2.3 sorting by UTF-16 code units', async (t) => {
  const input = JSON.parse('{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}');
  // Read the member names from the text itself: a parsed object would reorder "1" first.
  const keys = [...canonicalize(input).matchAll(/"((?:[^"\\]|\\.)*)":"/g)].map((match) => JSON.parse(`"${match[1]}"`));
  t.same(keys, ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
});

t.test('RFC 8785 Appendix B number serialization', async (t) => {
  const table: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['41b3de4355555555', '333333333.3333333'],
  ];
  for (const [bits, expected] of table) {
    t.equal(canonicalize(Buffer.from(bits, 'hex').readDoubleBE(0)), expected, `0x${bits}`);
  }
  t.throws(() => canonicalize(Number.NaN));
  t.throws(() => canonicalize(Number.POSITIVE_INFINITY));
  t.throws(() => canonicalize([undefined]));
  t.equal(canonicalize({ b: undefined, a: 1 }), '{"a":1}', 'undefined members are left out, as JSON.stringify does');
});
