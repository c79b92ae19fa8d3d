// Bad input, JSON bodies (issue #8): every route of the JSON API that takes a body, found in the
// server's own route table, is sent near misses of its own schema, arbitrary JSON, malformed
// JSON text, wrong content types and oversized bodies, as a caller its policy lets in (so the
// bodies reach validation and the handlers). Every answer: no 5xx, a catalogued error body for
// a 4xx, and nothing stored by a refused request. A new route is fuzzed the day it is added.
import t from 'tap';
import fc from 'fast-check';
import { fuzzWorld, fuzzOptions, jsonApiRoutes, type FuzzRequest } from './support/world.js';
import { validValue, nearMiss, type JsonSchema } from './support/schema-arbitraries.js';
import { malformedJsonText, rawJson, wrongContentTypes } from './support/hostile-values.js';
import type { RouteEntry } from '../../server/plugins/authentication.js';

const bodyMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const json = 'application/json';

type Body = { payload?: string | Buffer; type?: string };

/** Counterexamples print short: a 1 MiB nesting would otherwise flood the report. */
function printable(body: Body): Body {
  const text = body.payload === undefined ? '(none)' : body.payload.toString();
  const shown = text.length > 300 ? `${text.slice(0, 300)}… (${text.length} characters)` : text;
  return Object.assign(body, { [fc.toStringMethod]: () => `${JSON.stringify(shown)} as ${body.type ?? 'no content type'}` });
}

/** One body for a route: text and the content type it is sent with. */
function bodyFor(schema: JsonSchema | undefined): fc.Arbitrary<Body> {
  return fc
    .oneof(
      { weight: 5, arbitrary: nearMiss(schema).map((value) => ({ payload: rawJson(value), type: json })) },
      { weight: 1, arbitrary: validValue(schema).map((value) => ({ payload: rawJson(value), type: json })) },
      { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => ({ payload: rawJson(value), type: json })) },
      { weight: 2, arbitrary: malformedJsonText.map((payload) => ({ payload, type: json })) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(validValue(schema), fc.constantFrom(...wrongContentTypes))
          .map(([value, type]) => ({ payload: rawJson(value), type })),
      },
      { weight: 1, arbitrary: fc.constant({}) },
    )
    .map(printable);
}

t.test('every JSON route: near misses, arbitrary and malformed JSON, wrong types; no 5xx, nothing stored', async (t) => {
  const world = await fuzzWorld(t);
  const routes = jsonApiRoutes(world.server.app.routeTable).filter((route) => bodyMethods.has(route.method));
  t.ok(routes.length >= 30, `${routes.length} routes take a body`);
  const statuses = new Map<number, number>();
  for (const route of routes) {
    const callers = world.callersFor(route);
    await fc.assert(
      fc.asyncProperty(bodyFor(route.schema.body as JsonSchema), fc.constantFrom(...callers), async (body, authorization) => {
        const { status } = await world.exchange(requestFor(route, world.pathFor(route.url), authorization, body), route);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }),
      fuzzOptions(40),
    );
  }
  t.comment(
    `generated bodies by status: ${[...statuses]
      .sort()
      .map(([status, count]) => `${status}×${count}`)
      .join(' ')}`,
  );
  t.equal((await world.server.call('GET', '/healthz')).status, 200, 'the server still answers');
});

t.test('every JSON route: a body over the limit is refused with 413 before anything is stored', async (t) => {
  const world = await fuzzWorld(t);
  const routes = jsonApiRoutes(world.server.app.routeTable).filter((route) => bodyMethods.has(route.method));
  const oversized = rawJson({ notes: 'x'.repeat(1024 * 1024) });
  for (const route of routes) {
    const [authorization] = world.callersFor(route);
    const outcome = await world.exchange(
      requestFor(route, world.pathFor(route.url), authorization, { payload: oversized, type: json }),
      route,
    );
    // Multipart routes judge the content type before the size: 4xx either way, never stored.
    t.ok(
      outcome.status === 413 || (route.schema.consumes as string[] | undefined)?.includes('multipart/form-data'),
      `${route.method} ${route.url}: ${outcome.status}`,
    );
  }
});

function requestFor(route: RouteEntry, url: string, authorization: string, body: Body): FuzzRequest {
  const headers: Record<string, string> = { authorization };
  if (body.type !== undefined) headers['content-type'] = body.type;
  return { method: route.method, url, headers, ...(body.payload === undefined ? {} : { payload: body.payload }) };
}
