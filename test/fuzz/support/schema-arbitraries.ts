// fast-check arbitraries derived from a route's own JSON schema (TypeBox emits plain JSON
// Schema): values that satisfy it, and near misses that break it in one place. Covers the
// keywords sluice's schemas use; an unknown keyword falls back to arbitrary JSON, so a new
// schema is fuzzed too, only less precisely.
import fc from 'fast-check';
import { hostileValue, hostileStrings, nested } from './hostile-values.js';

export type JsonSchema = Record<string, any>;

const smallString = (minLength = 0, maxLength = 24) => fc.string({ minLength, maxLength: Math.max(minLength, Math.min(maxLength, 24)) });

/** Values the schema accepts (best effort: patterns and formats are honoured, not all combinations). */
export function validValue(schema: JsonSchema | undefined): fc.Arbitrary<unknown> {
  if (!schema || typeof schema !== 'object') return fc.jsonValue({ maxDepth: 2 });
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  if (Array.isArray(schema.anyOf)) return fc.oneof(...schema.anyOf.map((option: JsonSchema) => validValue(option)));
  switch (schema.type) {
    case 'string':
      return validString(schema);
    case 'integer':
      return fc.integer({ min: lowerBound(schema, 1) ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({
        min: schema.minimum ?? schema.exclusiveMinimum ?? -1e6,
        max: schema.maximum ?? 1e6,
        minExcluded: schema.minimum === undefined && schema.exclusiveMinimum !== undefined,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = schema.minItems ?? 0;
      return fc.array(validValue(schema.items), { minLength, maxLength: Math.max(minLength, Math.min(schema.maxItems ?? 3, 3)) });
    }
    case 'object':
      return validObject(schema);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function lowerBound(schema: JsonSchema, step: number): number | undefined {
  if (schema.minimum !== undefined) return schema.minimum;
  return schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + step : undefined;
}

function validString(schema: JsonSchema): fc.Arbitrary<string> {
  const maxLength = schema.maxLength ?? Infinity;
  if (schema.format === 'date-time') {
    return fc
      .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
      .map((date) => date.toISOString());
  }
  if (schema.pattern) {
    return fc
      .stringMatching(new RegExp(schema.pattern))
      .filter((text) => text.length <= maxLength && text.length >= (schema.minLength ?? 0));
  }
  return smallString(schema.minLength ?? 0, maxLength);
}

function validObject(schema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const properties: Record<string, JsonSchema> = schema.properties ?? {};
  const required: string[] = schema.required ?? [];
  const known =
    Object.keys(properties).length > 0
      ? fc.record(Object.fromEntries(Object.entries(properties).map(([key, property]) => [key, validValue(property)])), {
          requiredKeys: required.filter((key) => key in properties),
        })
      : fc.constant({});
  const patterns = Object.values(schema.patternProperties ?? {}) as JsonSchema[];
  const extra =
    patterns.length > 0
      ? fc.dictionary(smallString(1, 12), validValue(patterns[0]), { maxKeys: 3 })
      : schema.additionalProperties === true && Object.keys(properties).length === 0
        ? fc.dictionary(smallString(1, 12), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })
        : fc.constant({});
  return fc.tuple(known, extra).map(([values, more]) => ({ ...more, ...values }));
}

/** A place inside a value: the chain of keys or indexes leading to it. */
type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = [], into: Path[] = []): Path[] {
  into.push(prefix);
  if (into.length > 200) return into;
  if (Array.isArray(value)) value.forEach((item, index) => pathsOf(item, [...prefix, index], into));
  else if (value && typeof value === 'object') Object.entries(value).forEach(([key, item]) => pathsOf(item, [...prefix, key], into));
  return into;
}

export type Mutation =
  | { kind: 'replace'; value: unknown }
  | { kind: 'delete' }
  | { kind: 'extra'; key: string; value: unknown }
  | { kind: 'nest'; depth: number; objects: boolean }
  | { kind: 'huge'; length: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: hostileValue.map((value) => ({ kind: 'replace' as const, value })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'delete' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('extra' as const),
      key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', '', ...hostileStrings.slice(0, 12)), smallString(1, 8)),
      value: hostileValue,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('nest' as const), depth: fc.integer({ min: 10, max: 50_000 }), objects: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('huge' as const), length: fc.integer({ min: 1000, max: 300_000 }) }) },
);

/** Applies one mutation at the path chosen by `pick` (modulo the number of places). */
export function mutate(value: unknown, pick: number, change: Mutation): unknown {
  const copy = structuredClone(value);
  const paths = pathsOf(copy);
  const path = paths[pick % paths.length];
  const replacement = (old: unknown): unknown => {
    switch (change.kind) {
      case 'replace':
        return change.value;
      case 'nest':
        return nested(change.depth, change.objects);
      case 'huge':
        return 'x'.repeat(change.length);
      default:
        return old;
    }
  };
  if (path.length === 0) {
    if (change.kind === 'delete') return undefined;
    if (change.kind === 'extra') return withOwnKey(copy, change.key, change.value);
    return replacement(copy);
  }
  const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], copy);
  const key = path[path.length - 1];
  if (change.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else if (change.kind === 'extra') {
    withOwnKey(parent[key], change.key, change.value);
  } else {
    Object.defineProperty(parent, key, { value: replacement(parent[key]), enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

/** Adds a key as an own property (so "__proto__" is sent as data, not a prototype change). */
function withOwnKey(target: unknown, key: string, value: unknown): unknown {
  if (target && typeof target === 'object' && !Array.isArray(target)) {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
    return target;
  }
  return { [key]: value };
}

/** A value the schema accepts, broken in exactly one place. */
export function nearMiss(schema: JsonSchema | undefined): fc.Arbitrary<unknown> {
  return fc.tuple(validValue(schema), fc.nat(), mutation).map(([value, pick, change]) => mutate(value, pick, change));
}
