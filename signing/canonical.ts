// Canonical JSON (RFC 8785, JCS): what every signature in sluice is computed over
// (DESIGN.md, "Trust model": keys sorted, no insignificant white space, UTF-8).

export function canonicalize(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // RFC 8785 §3.2.2.3: numbers serialize as ECMAScript's Number.prototype.toString.
      if (!Number.isFinite(value)) throw new Error('canonical JSON cannot hold NaN or Infinity');
      return Object.is(value, -0) ? '0' : String(value);
    case 'string':
      // §3.2.2.2: JSON.stringify's escaping is exactly the RFC's (short escapes, \u00XX for
      // other controls, lone surrogates as \uXXXX).
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((item) => {
          if (item === undefined || typeof item === 'function' || typeof item === 'symbol') throw new Error('canonical JSON arrays cannot hold undefined');
          return canonicalize(item);
        }).join(',')}]`;
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalize((value as { toJSON: () => unknown }).toJSON());
      // §3.2.3: members sorted by their names' UTF-16 code units; JavaScript's default sort
      // compares exactly that.
      const entries = Object.entries(value as Record<string, unknown>).filter(([, member]) => member !== undefined);
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalize(member)}`).join(',')}}`;
    }
    default:
      throw new Error(`canonical JSON cannot hold a ${typeof value}`);
  }
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}
