// cookie@2 (under @fastify/cookie and fastify's inject) and content-disposition@3 (under
// @fastify/static, which serves /docs) declare `node >=22`, so `npm ci` on Node 20 warns
// EBADENGINE. No release of @fastify/cookie, light-my-request or @fastify/static that takes an
// older major exists, and the older majors have another API (cookie@1 has no
// stringifySetCookie, content-disposition@2 no `create`), so an override would break them.
// The warning is harmless if every function sluice reaches through them works on the Node the
// machines run: this file calls each of them here, on that Node, with what sluice passes.
import t from 'tap';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

t.test('the Node this runs on is the one the machines run (20) or newer', async (t) => {
  t.ok(Number(process.versions.node.split('.')[0]) >= 20);
});

t.test('cookie@2: parse and serialise a session cookie as the portal and inject do', async (t) => {
  const cookie = require('cookie') as typeof import('cookie');
  const header = cookie.stringifySetCookie({
    name: 'sluice_session',
    value: 'a b;c',
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    path: '/',
    maxAge: 3600,
  });
  t.match(header, /^sluice_session=a%20b%3Bc; Max-Age=3600; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  t.same(cookie.parseCookie('sluice_session=a%20b%3Bc; other=1'), { sluice_session: 'a b;c', other: '1' });
  t.match(cookie.parseSetCookie(header), { name: 'sluice_session', value: 'a b;c', httpOnly: true });
});

t.test('content-disposition@3: the header @fastify/static sends for a download', async (t) => {
  const { create, parse } = require('content-disposition') as {
    create: (name: string) => string;
    parse: (header: string) => { type: string; parameters: Record<string, string> };
  };
  const header = create('plan ä.pdf');
  t.equal(header, 'attachment; filename="plan ?.pdf"; filename*=UTF-8\'\'plan%20%C3%A4.pdf');
  t.same(parse(header), { type: 'attachment', parameters: { filename: 'plan ä.pdf' } });
});
