// Values that break naive code: unicode edges, numbers at the limits of IEEE 754, strings that
// look like other types, traversal and injection text. Shared by every fuzz test.
import fc from 'fast-check';

/** Marks a raw JSON token (one JavaScript cannot hold, e.g. 1e400) inside a value; see rawJson. */
const rawMarker = (token: string) => `__raw_json__${token}__`;

export const hostileStrings: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83dy',
  '\u202eevil\u202c',
  '\u200f\u200e',
  '\ufeff',
  '\u2028\u2029',
  'e\u0301'.repeat(500),
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀',
  'À¯',
  'Ã©',
  '\r\nSet-Cookie: x=1',
  '../../etc/passwd',
  '/etc/passwd',
  'C:\\Windows\\win.ini',
  '%00',
  '%2e%2e%2f',
  '<script>alert(1)</script>',
  "'; DROP TABLE releases; --",
  '${7*7}',
  'NaN',
  'Infinity',
  '-0',
  '1e308',
  '0x10',
  'null',
  'true',
  '[]',
  '{}',
  '__proto__',
  '2026-02-30T25:61:61Z',
  '9999-12-31T23:59:59Z',
  '0000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00.001Z',
  '2026-03-29T02:30',
  'Europe/../../etc/passwd',
  'Etc/GMT+14',
  'Mars/Olympus',
  '* * * * * * *',
  '0 2 31 2 *',
  'PT999999999H',
  'P-1D',
  'a'.repeat(70_000),
];

export const hostileNumbers: readonly number[] = [
  1e308,
  -1e308,
  5e-324,
  -0,
  0,
  2 ** 53,
  -(2 ** 53) - 1,
  2 ** 31,
  -(2 ** 31) - 1,
  -1,
  1.5,
  Number.MAX_SAFE_INTEGER + 2,
  1e21,
];

/** Tokens valid in JSON text but not representable in JavaScript, or at its edges. */
export const rawNumberTokens: readonly string[] = ['1e400', '-1e400', '1E-400', '123456789012345678901234567890', '-0.0', '0.1e-9999'];

export const hostileString = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);

/**
 * A value nested `depth` times in arrays or objects, as a raw marker expanded by rawJson:
 * JSON.stringify itself overflows its stack long before a server's parser should.
 */
export function nested(depth: number, inObjects: boolean): unknown {
  return rawMarker(`nest:${inObjects ? 'o' : 'a'}:${depth}`);
}

function expandRaw(token: string): string {
  const nest = /^nest:([oa]):(\d+)$/.exec(token);
  if (!nest) return token;
  const depth = Number(nest[2]);
  return nest[1] === 'o' ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

/** Any value of the wrong kind: other types, edge numbers, hostile strings, deep nesting. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 3, arbitrary: fc.constantFrom<unknown>(...hostileNumbers, true, false, null, [], {}, [null], { '': '' }) },
  { weight: 1, arbitrary: fc.constantFrom(...rawNumberTokens).map(rawMarker) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 20, max: 20_000 }), fc.boolean()).map(([depth, objects]) => nested(depth, objects)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** JSON text of a value, with raw number markers turned into the bare tokens they stand for. */
export function rawJson(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(/"__raw_json__(.*?)__"/g, (_, token: string) => expandRaw(token));
}

/** Text that is not JSON, or not the JSON a parser expects: truncations, garbage, other encodings. */
export const malformedJsonTexts: readonly (string | Buffer)[] = [
  '',
  ' ',
  '{',
  '}',
  '{"a":}',
  "{'a':1}",
  'NaN',
  '[1,]',
  '{"a":1,}',
  '{"a":1}{"b":2}',
  '\ufeff{}',
  '{"a":1e99999}',
  '\u0000',
  'undefined',
  '{"a" 1}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '"\\ud800"',
  '"\\u00"',
  '{"a":"\\x41"}',
  '['.repeat(100_000),
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d]), // overlong "/" in UTF-8
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), // CESU-8 surrogate
  Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]), // UTF-16 LE with BOM
  Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
];

export const malformedJsonText: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.constantFrom(...malformedJsonTexts),
  // A valid document cut short or with one character changed.
  fc
    .tuple(fc.jsonValue({ maxDepth: 3 }), fc.nat(), fc.string({ minLength: 1, maxLength: 2 }))
    .map(([value, at, insert]) => {
      const text = JSON.stringify(value) ?? 'null';
      const cut = at % (text.length + 1);
      return text.length > 1 && at % 2 === 0 ? text.slice(0, Math.max(1, cut)) : text.slice(0, cut) + insert + text.slice(cut + 1);
    })
    .filter((text) => {
      try {
        JSON.parse(text);
        return false;
      } catch {
        return true;
      }
    }),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

export const wrongContentTypes: readonly (string | undefined)[] = [
  undefined,
  '',
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/jsonx',
  'application/json-patch+json',
  '*/*',
  'json',
  'application/',
  'application/json; boundary=x; charset',
  'APPLICATION/JSON',
  'application/json;;;',
  'application/octet-stream',
  'text/html; charset=utf-8',
];
