// Canonical JSON beyond the RFC's examples: what it refuses, and properties over generated
// JSON values checked against a small independent serializer.
import t from 'tap';
import fc from 'fast-check';
import { canonicalize, canonicalBytes } from '../../signing/canonical.js';

// An independent oracle: explicit code-unit comparison, JSON.stringify only for leaves.
function oracle(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(oracle).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const names = Object.keys(value).filter((name) => (value as Record<string, unknown>)[name] !== undefined);
    names.sort((a, b) => {
      for (let index = 0; index < Math.min(a.length, b.length); index++) {
        const difference = a.charCodeAt(index) - b.charCodeAt(index);
        if (difference !== 0) return difference;
      }
      return a.length - b.length;
    });
    return `{${names.map((name) => `${JSON.stringify(name)}:${oracle((value as Record<string, unknown>)[name])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

// Reverses every object's member order, recursively: the canonical form must not notice.
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([name, member]) => [name, reversed(member)]),
    );
  return value;
}

// Full Unicode strings (well-formed: lone surrogates are refused, tested below).
const json = fc.jsonValue({ maxDepth: 4, stringUnit: 'grapheme' });

t.test('properties over generated JSON values', async (t) => {
  fc.assert(
    fc.property(json, (value) => canonicalize(value) === oracle(value)),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(json, (value) => canonicalize(reversed(value)) === canonicalize(value)),
    { numRuns: 300 },
  );
  // Sent as text and parsed again, a document keeps its canonical form: what was signed verifies.
  fc.assert(
    fc.property(json, (value) => canonicalize(JSON.parse(JSON.stringify(value))) === canonicalize(value)),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(json, (value) => canonicalize(JSON.parse(canonicalize(value))) === canonicalize(value)),
    { numRuns: 300 },
  );
  t.pass('canonical form matches the oracle, ignores member order, survives a JSON round trip and is idempotent');
});

t.test('no insignificant white space; UTF-8 bytes', async (t) => {
  t.equal(canonicalize({ b: [1, { d: ' x ', c: null }], a: 'é' }), '{"a":"é","b":[1,{"c":null,"d":" x "}]}');
  t.equal(canonicalBytes({ a: 'é' }).toString('hex'), '7b2261223a22c3a9227d');
  t.equal(canonicalize('\u2028\u007f'), '"\u2028\u007f"', 'U+2028 and DEL stay literal (§3.2.2.2)');
  t.equal(
    canonicalize('\u0000\u0008\u0009\u000a\u000c\u000d\u001f'),
    '"\\u0000\\b\\t\\n\\f\\r\\u001f"',
    'controls: short escapes, else lowercase \\u00xx',
  );
});

t.test('refuses what JSON cannot carry unchanged', async (t) => {
  const refused: [string, unknown][] = [
    ['NaN', Number.NaN],
    ['Infinity in an object', { a: Number.POSITIVE_INFINITY }],
    ['undefined in an array', [1, undefined]],
    ['a function in an array', [() => 1]],
    ['a function as a member', { f: () => 1 }],
    ['a symbol', Symbol('x')],
    ['a bigint', 10n],
    ['undefined at the top', undefined],
    ['a lone high surrogate in a value', { a: 'x\ud800' }],
    ['a lone low surrogate in a name', { '\udc00': 1 }],
    ['a Map', new Map([['a', 1]])],
    ['a Set', { s: new Set([1]) }],
    [
      'a class instance',
      new (class Point {
        x = 1;
      })(),
    ],
  ];
  for (const [name, value] of refused) t.throws(() => canonicalize(value), Error, name);
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = cycle;
  t.throws(() => canonicalize(cycle), /cycle/, 'a cycle is refused, not a stack overflow');
  const shared = { x: 1 };
  t.equal(canonicalize({ a: shared, b: [shared] }), '{"a":{"x":1},"b":[{"x":1}]}', 'a value referenced twice is no cycle');
});

t.test('follows JSON.stringify where it is unambiguous', async (t) => {
  t.equal(canonicalize({ b: undefined, a: 1 }), '{"a":1}', 'members whose value is undefined are left out');
  t.equal(
    canonicalize({ at: new Date('2026-11-25T00:00:00Z') }),
    '{"at":"2026-11-25T00:00:00.000Z"}',
    'toJSON is applied (a Date is its ISO string)',
  );
  t.equal(canonicalize(Object.assign(Object.create(null), { b: 2, a: 1 })), '{"a":1,"b":2}', 'an object without prototype is plain');
  t.equal(canonicalize('\ud83d\ude00'), '"\ud83d\ude00"', 'a surrogate pair is a character, not a lone surrogate');
});
