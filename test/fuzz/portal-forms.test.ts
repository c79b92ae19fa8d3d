// Bad input on the portal's forms (issue #8, "Bad input", for the web pages): every POST route
// outside the JSON API is sent generated form bodies as a signed-in customer, with and without
// the session's CSRF token, in odd encodings and over the size limit. Promises: no 5xx, a refusal
// is an HTML page that says why (issue #5: never a raw JSON error), and a refusal stores nothing.
import t from 'tap';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { fuzzWorld, fuzzOptions } from './support/world.js';
import { hostileString } from './support/hostile-values.js';
import { storedState, differences } from './support/stored-state.js';

const fields = [
  '_csrf',
  'window',
  'maintainerName',
  'maintainerPhone',
  'start',
  'end',
  'comment',
  'title',
  'description',
  'class',
  'severity',
  'device',
  'username',
  'password',
];

t.test('portal forms: generated bodies, no 5xx, refusals in the page, nothing stored', async (t) => {
  const world = await fuzzWorld(t);
  const { server, ids } = world;
  const { store } = server.app.sluice;
  const created = await server.call('POST', '/api/v1/users', server.adminToken, {
    username: 'ana',
    role: 'customer',
    customer: 'acme',
    password: 'fuzz-password-1234',
  });
  t.equal(created.status, 201);

  const inject = (options: InjectOptions) => server.app.inject(options);
  const cookiesOf = (response: Awaited<ReturnType<typeof inject>>) =>
    ([] as string[]).concat((response.headers['set-cookie'] as string | string[] | undefined) ?? []).map((cookie) => cookie.split(';')[0]);
  const csrfIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const form = await inject({ method: 'GET', url: '/login' });
  const signedIn = await inject({
    method: 'POST',
    url: '/login',
    headers: { cookie: cookiesOf(form).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: csrfIn(form.body), username: 'ana', password: 'fuzz-password-1234' }).toString(),
  });
  t.equal(signedIn.statusCode, 303, 'signed in');
  const session = cookiesOf(signedIn).find((cookie) => cookie.startsWith('sluice_session='))!;
  const csrf = csrfIn((await inject({ method: 'GET', url: '/portal', headers: { cookie: session } })).body);
  t.ok(csrf, 'the session has a CSRF token');

  const routes = server.app.routeTable.filter(
    (route) => route.method === 'POST' && route.access === null && /^\/(portal|login|logout)/.test(route.url),
  );
  t.ok(routes.length >= 5, `${routes.length} portal forms`);
  // Path parameters over the router's limit are refused before any route (test/fuzz/queries.test.ts).
  const decisions = fc.oneof(
    fc.constantFrom('consent', 'refuse'),
    hostileString.filter((value) => value.length <= 100),
  );
  const pathFor = (url: string, decision: string) =>
    url
      .replace('/plans/:id', `/plans/${ids.plans}`)
      .replace('/support/:id', `/support/${ids['support-sessions']}`)
      .replace(':decision', encodeURIComponent(decision.replace(/[\uD800-\uDFFF]/g, '\uFFFD')))
      .replace(/:id/g, 'fuzz-missing');
  const body = fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .dictionary(fc.oneof(fc.constantFrom(...fields), fc.string({ maxLength: 12 })), hostileString, { maxKeys: 8 })
        .map((values) => new URLSearchParams(values).toString()),
    },
    { weight: 1, arbitrary: fc.constantFrom('%', '%E0%A4%A', 'a=%ZZ&b', '=&=&&==', 'x'.repeat(70 * 1024), '\u0000=\u0000') },
  );
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constant('application/x-www-form-urlencoded') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'text/plain',
        'application/json',
        'multipart/form-data',
        'application/x-www-form-urlencoded; charset=utf-16',
      ),
    },
  );

  let refused = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...routes),
      body,
      contentType,
      fc.boolean(),
      decisions,
      async (route, payload, type, withToken, decision) => {
        const finalPayload =
          withToken && type.startsWith('application/x-www-form-urlencoded') ? `${payload}&_csrf=${encodeURIComponent(csrf)}` : payload;
        const before = await storedState(store, server.dataDir);
        const response = await inject({
          method: 'POST',
          url: pathFor(route.url, decision),
          headers: { cookie: session, 'content-type': type },
          payload: finalPayload,
        });
        const what = `POST ${pathFor(route.url, decision)} [${type}] ${JSON.stringify(finalPayload.slice(0, 120))} → ${response.statusCode}`;
        if (response.statusCode >= 500) throw new Error(`${what}: a 5xx is a bug\n${response.body.slice(0, 300)}`);
        if (response.statusCode >= 400) {
          refused++;
          if (!String(response.headers['content-type']).startsWith('text/html'))
            throw new Error(`${what}: a refusal must be a page, got ${response.headers['content-type']}`);
          if (!/class="flash error"|<h1>/.test(response.body)) throw new Error(`${what}: the page does not say why`);
          const changed = (await differences(store, before, await storedState(store, server.dataDir))).filter(
            (change) => change !== 'table portal_sessions',
          );
          if (changed.length > 0) throw new Error(`${what}: stored ${changed.join(', ')}`);
        }
      },
    ),
    fuzzOptions(300),
  );
  t.ok(refused > 0, `${refused} refusals checked`);
});
