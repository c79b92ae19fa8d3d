// Canonical JSON (RFC 8785, JCS): what every signature in sluice is computed over
// (DESIGN.md, "Trust model": keys sorted, no insignificant white space, UTF-8). Anything that
// JSON cannot carry unchanged is refused rather than guessed at: a signer and a verifier must
// never disagree about the bytes.

// With the `u` flag a well-formed surrogate pair is one code point, so this matches lone
// surrogates only. RFC 8785 §3.1 limits its input to I-JSON (RFC 7493 §2.1), which forbids them,
// and UTF-8 cannot encode them.
const loneSurrogate = /\p{Surrogate}/u;

/**
 * `known` maps objects to their canonical text, computed before by canonicalize: a server
 * that puts the same immutable document (a release manifest) into many answers serializes it
 * once. Only objects that cannot change since may be listed.
 */
export function canonicalize(value: unknown, known?: ReadonlyMap<object, string>): string {
  return serialize(value, new Set(), known);
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}

function serialize(value: unknown, ancestors: Set<object>, known?: ReadonlyMap<object, string>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // §3.2.2.3: ECMAScript's Number.prototype.toString, which is what String() applies;
      // it writes -0 as "0". NaN and the infinities have no JSON form.
      if (!Number.isFinite(value)) throw new Error(`canonical JSON cannot hold the number ${value}`);
      return String(value);
    case 'string':
      return serializeString(value);
    case 'object':
      return known?.get(value as object) ?? serializeObject(value as object, ancestors, known);
    default:
      throw new Error(`canonical JSON cannot hold a ${typeof value}`);
  }
}

function serializeString(value: string): string {
  if (loneSurrogate.test(value)) throw new Error('canonical JSON cannot hold a string with a lone surrogate');
  // §3.2.2.2: JSON.stringify's escaping is exactly the RFC's: \b \t \n \f \r \" \\ as short
  // escapes, other controls below U+0020 as lowercase \u00xx, everything else literal.
  return JSON.stringify(value);
}

function serializeObject(value: object, ancestors: Set<object>, known?: ReadonlyMap<object, string>): string {
  if (ancestors.has(value)) throw new Error('canonical JSON cannot hold a cycle');
  // Same as JSON.stringify, so that a document signed as an object verifies after it has been
  // sent as text and parsed again (a Date becomes its ISO string).
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return serialize((value as { toJSON: () => unknown }).toJSON(), ancestors, known);
  }
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      return `[${value
        .map((item: unknown) => {
          // JSON.stringify would write null here: a silent change of what was signed.
          if (item === undefined) throw new Error('canonical JSON arrays cannot hold undefined');
          return serialize(item, ancestors, known);
        })
        .join(',')}]`;
    }
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      // A Map, a Set or a class instance would serialize as "{}" or as some of its fields.
      throw new Error(`canonical JSON cannot hold a ${value.constructor?.name ?? 'non-plain object'}`);
    }
    // Members whose value is undefined are left out, as JSON.stringify leaves them out.
    const entries = Object.entries(value).filter(([, member]) => member !== undefined);
    // §3.2.3: members sorted by their names as arrays of UTF-16 code units; JavaScript's
    // string comparison compares exactly those.
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, member]) => `${serializeString(name)}:${serialize(member, ancestors, known)}`).join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
}
