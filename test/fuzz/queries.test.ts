// Bad input in URLs (issue #8): every route in the route table that the JSON API serves, its
// path parameters replaced by hostile text and its query string built from near misses of its
// own querystring schema, as a caller its policy admits. Then every GET route is read back,
// so values stored by the successful bodies of the other fuzz tests cannot break a reader.
import t from 'tap';
import fc from 'fast-check';
import { fuzzWorld, fuzzOptions, jsonApiRoutes } from './support/world.js';
import { nearMiss, type JsonSchema } from './support/schema-arbitraries.js';
import { hostileString } from './support/hostile-values.js';

/** Every UTF-8 byte percent-encoded (a lone surrogate becomes U+FFFD, as a client would send). */
const percent = (text: string) => [...Buffer.from(text)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
/** Percent sequences no encoder produces: invalid, overlong, surrogate and NUL bytes. */
const rawParameters = ['%', '%ZZ', '%C0%AF', '%ED%A0%80', '%00', '..%2F..%2Fetc', '%2e%2e', '%FF%FE'];

/** A query string from a value: objects become key=value pairs, anything else a raw text. */
function queryOf(value: unknown): string {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return percent(String(JSON.stringify(value) ?? ''));
  return Object.entries(value)
    .flatMap(([key, item]) =>
      [item].flat().map((one) => `${percent(key)}=${percent(typeof one === 'string' ? one : String(JSON.stringify(one) ?? ''))}`),
    )
    .join('&');
}

t.test('every route: hostile path parameters and near-miss query strings; no 5xx, nothing stored', async (t) => {
  const world = await fuzzWorld(t);
  const routes = jsonApiRoutes(world.server.app.routeTable);
  const statuses = new Map<number, number>();
  for (const route of routes) {
    const callers = world.callersFor(route);
    const parameter = fc.option(fc.oneof(hostileString.map(percent), fc.constantFrom(...rawParameters)), { nil: null, freq: 2 });
    await fc.assert(
      fc.asyncProperty(
        nearMiss(route.schema.querystring as JsonSchema | undefined),
        parameter,
        fc.constantFrom(...callers),
        async (query, hostile, authorization) => {
          const path = hostile === null ? world.pathFor(route.url) : route.url.replace(/:\w+/g, hostile);
          const body: { payload?: string; headers: Record<string, string> } = ['POST', 'PUT'].includes(route.method)
            ? { payload: '{}', headers: { authorization, 'content-type': 'application/json' } }
            : { headers: { authorization } };
          const { status } = await world.exchange({ method: route.method, url: `${path}?${queryOf(query)}`, ...body }, route);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        },
      ),
      fuzzOptions(10),
    );
  }
  t.comment(
    `answers by status: ${[...statuses]
      .sort()
      .map(([status, count]) => `${status}×${count}`)
      .join(' ')}`,
  );
});

t.test('every GET route reads back what generated bodies stored, without a 5xx', async (t) => {
  const world = await fuzzWorld(t);
  // Store the awkward values a schema lets through: lone surrogates, RTL marks, NUL, long text.
  const awkward = ['\ud800', '\u202eabc', 'a\u0000b', '𝔘😀', 'x'.repeat(200)];
  for (const [index, text] of awkward.entries()) {
    await world.exchange({
      method: 'POST',
      url: '/api/v1/products',
      headers: { authorization: `Bearer ${world.fleet.tokens.admin}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ id: `odd-${index}`, name: text }),
    });
    await world.exchange({
      method: 'POST',
      url: '/api/v1/faults',
      headers: { authorization: `Bearer ${world.fleet.tokens.customer}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ class: 'D', title: text, description: text }),
    });
  }
  await world.exchange({
    method: 'POST',
    url: `/api/v1/plans/${world.ids.plans}/cancel`,
    headers: { authorization: `Bearer ${world.fleet.tokens.support}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ reason: awkward.join(' ') }),
  });
  for (const route of jsonApiRoutes(world.server.app.routeTable).filter((entry) => entry.method === 'GET')) {
    for (const authorization of world.callersFor(route)) {
      const outcome = await world.exchange({ method: 'GET', url: world.pathFor(route.url), headers: { authorization } });
      t.ok(outcome.status < 500, `${route.url} as ${authorization.split(' ')[0]}: ${outcome.status}`);
    }
  }
});

// Regression found by the first property: the router's own refusals bypassed the error handler
// and answered in fastify's shape ({ error: "Bad Request", code: "FST_ERR_BAD_URL" }).
t.test('a malformed percent-encoding or an over-long parameter: DESIGN.md error bodies', async (t) => {
  const world = await fuzzWorld(t);
  const bad = await world.exchange({
    method: 'GET',
    url: '/api/v1/releases/%ZZ',
    headers: { authorization: `Bearer ${world.fleet.tokens.admin}` },
  });
  t.equal(bad.status, 400);
  t.equal(JSON.parse(bad.body).error.code, 'bad_request');
  const long = await world.exchange({
    method: 'GET',
    url: `/api/v1/releases/${'x'.repeat(400)}`,
    headers: { authorization: `Bearer ${world.fleet.tokens.admin}` },
  });
  t.equal(long.status, 414);
  t.equal(JSON.parse(long.body).error.code, 'uri_too_long');
});
