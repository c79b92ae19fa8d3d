// /docs documents the API as it is (issue 17): every operation of the OpenAPI document the
// server publishes has a summary, tags, a 2xx reply with a real shape (or an explicit empty
// or binary body) and the error replies it can raise; no reply or component is an open
// object with nothing in it (what Swagger UI shows as "additionalProp1"); the portal's HTML
// pages stay out. Then every operation is called for real, without a token and with a body
// it cannot accept, and each answer's status must be one the operation declares.
import t from 'tap';
import { startTestServer } from '../helpers/server.js';

type Schema = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  operation: Schema;
}

const methods = ['get', 'put', 'post', 'delete', 'patch', 'head'];
// Signed documents stay open so that their signatures survive serialization, and free-form
// facts (audit details, event data) differ by what happened: both marked by title (protocol/common.ts).
const openByDesign = (title: unknown) =>
  typeof title === 'string' && (title.endsWith(' (signed payload)') || title.endsWith(' (free-form)'));

function operations(document: Schema): Operation[] {
  return Object.entries(document.paths as Record<string, Schema>).flatMap(([path, item]) =>
    methods.filter((method) => item[method]).map((method) => ({ method, path, operation: item[method] })),
  );
}

function resolve(document: Schema, schema: Schema | undefined): Schema | undefined {
  if (!schema?.$ref) return schema;
  return document.components.schemas[String(schema.$ref).replace('#/components/schemas/', '')];
}

/** Every object schema in `schema` that is open without a shape: additionalProperties true or {}, or no properties at all. */
function openObjects(
  document: Schema,
  schema: Schema | undefined,
  where: string,
  found: string[] = [],
  seen = new Set<Schema>(),
): string[] {
  const resolved = resolve(document, schema);
  if (!resolved || typeof resolved !== 'object' || seen.has(resolved)) return found;
  seen.add(resolved);
  const open =
    resolved.additionalProperties === true ||
    (resolved.additionalProperties &&
      typeof resolved.additionalProperties === 'object' &&
      Object.keys(resolved.additionalProperties).length === 0) ||
    // (an enum is closed: swagger writes a nullable enum's null as { type: object, enum: [null] })
    (resolved.type === 'object' && !resolved.properties && !resolved.additionalProperties && !resolved.patternProperties && !resolved.enum);
  if (open && !openByDesign(resolved.title)) found.push(where);
  for (const [name, child] of Object.entries((resolved.properties ?? {}) as Record<string, Schema>))
    openObjects(document, child, `${where}.${name}`, found, seen);
  if (resolved.items) openObjects(document, resolved.items, `${where}[]`, found, seen);
  if (typeof resolved.additionalProperties === 'object') openObjects(document, resolved.additionalProperties, `${where}{}`, found, seen);
  for (const key of ['anyOf', 'oneOf', 'allOf'])
    (resolved[key] ?? []).forEach((child: Schema, index: number) => openObjects(document, child, `${where}|${index}`, found, seen));
  return found;
}

/** A 2xx reply documents its body: an object with properties, a list of them, or says it has none or is bytes. */
function documentsBody(document: Schema, reply: Schema): boolean {
  if (!reply.content) return typeof reply.description === 'string' && reply.description !== 'Default Response';
  return Object.entries(reply.content as Record<string, Schema>).every(([type, { schema }]) => {
    const body = resolve(document, schema);
    if (!body) return false;
    if (body.type === 'string' && (body.format === 'binary' || type.startsWith('text/'))) return true;
    const shaped = (value: Schema | undefined): boolean => {
      const resolved = resolve(document, value);
      return Boolean(
        resolved && ((resolved.type === 'object' && resolved.properties) || (resolved.type === 'array' && shaped(resolved.items))),
      );
    };
    return shaped(body);
  });
}

/** The error replies an operation must declare, from what it takes and who may call it. */
function requiredErrors(operation: Schema, path: string): number[] {
  const required = new Set<number>();
  const authenticated = !(Array.isArray(operation.security) && operation.security.length === 0);
  if (authenticated) [401, 403].forEach((status) => required.add(status));
  if ((operation.parameters ?? []).length > 0 || operation.requestBody) required.add(400);
  if (path.includes('{')) required.add(404);
  if (operation.requestBody) [413, 415].forEach((status) => required.add(status));
  return [...required];
}

t.test('every operation at /docs/json is documented', async (t) => {
  const server = await startTestServer(t);
  const response = await server.app.inject({ method: 'GET', url: '/docs/json' });
  t.equal(response.statusCode, 200);
  const document = response.json() as Schema;
  const all = operations(document);
  t.ok(all.length > 60, `${all.length} operations (the walk itself works)`);

  const problems: string[] = [];
  for (const { method, path, operation } of all) {
    const name = `${method.toUpperCase()} ${path}`;
    if (typeof operation.summary !== 'string' || operation.summary.length < 5) problems.push(`${name}: no summary`);
    if (!Array.isArray(operation.tags) || operation.tags.length === 0) problems.push(`${name}: no tags`);
    const replies = (operation.responses ?? {}) as Record<string, Schema>;
    const successes = Object.keys(replies).filter((status) => status.startsWith('2'));
    if (successes.length === 0) problems.push(`${name}: no 2xx reply`);
    for (const status of successes)
      if (!documentsBody(document, replies[status]))
        problems.push(`${name}: the ${status} reply has no shape (properties, or an explicit empty or binary body)`);
    const missing = requiredErrors(operation, path).filter((status) => !replies[String(status)]);
    if (missing.length > 0) problems.push(`${name}: declares no ${missing.join(', ')} reply`);
    for (const [status, reply] of Object.entries(replies)) {
      if (!/^[45]/.test(status)) continue;
      const shapes = Object.values((reply.content ?? {}) as Record<string, Schema>).map(({ schema }) => resolve(document, schema));
      if (shapes.length === 0 || shapes.some((shape) => shape?.properties?.error === undefined))
        problems.push(`${name}: the ${status} reply is not the error shape`);
    }
    for (const [status, reply] of Object.entries(replies)) {
      for (const [type, content] of Object.entries((reply.content ?? {}) as Record<string, Schema>)) {
        problems.push(...openObjects(document, content.schema, `${name} ${status} ${type}`).map((where) => `open object: ${where}`));
      }
    }
    for (const [type, content] of Object.entries((operation.requestBody?.content ?? {}) as Record<string, Schema>)) {
      problems.push(...openObjects(document, content.schema, `${name} body ${type}`).map((where) => `open object: ${where}`));
    }
  }
  for (const [name, schema] of Object.entries((document.components?.schemas ?? {}) as Record<string, Schema>)) {
    problems.push(...openObjects(document, schema, `components.${name}`).map((where) => `open object: ${where}`));
  }
  t.same(problems, [], 'operations /docs does not document fully');

  const pages = Object.keys(document.paths).filter((path) => path === '/' || /^\/(portal|staff|login|logout)(\/|$)/.test(path));
  t.same(pages, [], "the portal's HTML pages are hidden from /docs");
});

t.test('each operation answers only statuses it declares', async (t) => {
  const server = await startTestServer(t);
  const document = (await server.app.inject({ method: 'GET', url: '/docs/json' })).json() as Schema;
  // Values that pass the path parameters' own patterns, so that the route itself answers.
  const sample = (parameter: Schema) =>
    parameter.name === 'file' ? '1.json' : parameter.schema?.type === 'integer' ? '1' : 'unknown-thing';
  const undeclared: string[] = [];
  for (const { method, path, operation } of operations(document)) {
    if (method === 'head') continue;
    let url = path;
    for (const parameter of (operation.parameters ?? []).filter((item: Schema) => item.in === 'path'))
      url = url.replace(`{${parameter.name}}`, sample(parameter));
    const declared = new Set(Object.keys(operation.responses ?? {}));
    const body = operation.requestBody ? { payload: { unexpected: true } } : {};
    const attempts = [
      { who: 'without a token', headers: {} },
      { who: 'as admin, with a body it cannot take', headers: { authorization: `Bearer ${server.adminToken}` } },
    ];
    for (const attempt of attempts) {
      const response = await server.app.inject({ method: method.toUpperCase() as 'GET', url, headers: attempt.headers, ...body });
      if (!declared.has(String(response.statusCode))) {
        undeclared.push(`${method.toUpperCase()} ${path} ${attempt.who}: ${response.statusCode} ${response.body.slice(0, 120)}`);
      }
    }
  }
  t.same(undeclared, [], 'answers with a status /docs does not declare');
});
