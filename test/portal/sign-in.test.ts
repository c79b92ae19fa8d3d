// Portal sign-in (issue 15), over real HTTP on 127.0.0.1: unknown user names cost a hash as
// known ones do; old hashes are replaced at sign-in; the session cookie is Secure when a
// trusted proxy says the request was HTTPS. The limits are in sign-in-limits.test.ts.
// scrypt at N = 2^17 takes a few hundred milliseconds: sign-ins here are few.
import t from 'tap';
import { request } from 'undici';
import { randomBytes, scryptSync } from 'node:crypto';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { hashPassword } from '../../server/auth/passwords.js';

const password = 'correct horse battery';

async function portal(server: TestServer) {
  const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const form = await request(`${address}/login`);
  const html = await form.body.text();
  const cookie = ([] as string[])
    .concat(form.headers['set-cookie'] ?? [])
    .map((line) => line.split(';')[0])
    .join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1];
  /** One sign-in; `from` is the client address the trusted proxy forwards. */
  const signIn = async (username: string, given: string, from = '192.0.2.1') => {
    const response = await request(`${address}/login`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
      body: new URLSearchParams({ _csrf: csrf, username, password: given }).toString(),
    });
    await response.body.text();
    return {
      status: response.statusCode,
      cookies: ([] as string[]).concat(response.headers['set-cookie'] ?? []),
      retryAfter: response.headers['retry-after'],
    };
  };
  return { address, signIn };
}

// One hash for every user of the file: each made through the API would cost one more.
const passwordHash = await hashPassword(password);
const user = (server: TestServer, username: string) =>
  server.app.sluice.store.users.create({ username, role: 'support', passwordHash }, new Date());

t.test('an unknown user name costs a password hash, as a known one does', async (t) => {
  const server = await startTestServer(t, { trustProxy: ['127.0.0.1'] });
  await user(server, 'eve');
  await server.app.sluice.store.users.create({ username: 'tokens-only', role: 'release' }, new Date());
  const { signIn } = await portal(server);
  // CPU time, not wall time: scrypt runs on libuv's threads, which process.cpuUsage counts,
  // and a busy machine stretches wall time without changing how much work was done.
  const cpuOf = async (username: string) => {
    const before = process.cpuUsage();
    t.equal((await signIn(username, 'wrong password', `198.51.100.${Math.floor(Math.random() * 250)}`)).status, 401);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000;
  };
  await cpuOf('eve'); // warms the route up, so that the first measurement does not carry the JIT's work
  const known = await cpuOf('eve');
  const unknown = await cpuOf('nobody-by-this-name');
  const passwordless = await cpuOf('tokens-only');
  t.ok(known > 50, `a known user's wrong password costs a hash (${known.toFixed(0)} ms of CPU)`);
  t.ok(unknown > known * 0.5, `an unknown user name costs as much (${unknown.toFixed(0)} ms against ${known.toFixed(0)} ms)`);
  t.ok(passwordless > known * 0.5, `so does a user without a password (${passwordless.toFixed(0)} ms)`);
});

t.test('a hash with older parameters is replaced at sign-in; the password still works', async (t) => {
  const server = await startTestServer(t, { trustProxy: ['127.0.0.1'] });
  const { id } = await user(server, 'fay');
  const salt = randomBytes(16);
  const old = `scrypt$16384$8$1$${salt.toString('base64')}$${scryptSync(password, salt, 32, { N: 16384, r: 8, p: 1 }).toString('base64')}`;
  const { store } = server.app.sluice;
  await store.users.setPasswordHash(id, old);
  const { signIn } = await portal(server);
  t.equal((await signIn('fay', password)).status, 303, 'signed in with the old hash');
  const stored = (await store.users.get(id))!.passwordHash!;
  t.match(stored, /^scrypt\$131072\$8\$1\$/, 'rehashed at N = 2^17, r = 8, p = 1');
  t.equal((await signIn('fay', password)).status, 303, 'and the new hash verifies');
  t.equal((await store.users.get(id))!.passwordHash, stored, 'a current hash is left alone');
});

t.test('the session cookie is Secure when a trusted proxy forwarded HTTPS, and only then', async (t) => {
  const addresses = new Map<TestServer, string>();
  const loginCookie = async (server: TestServer, headers: Record<string, string>) => {
    if (!addresses.has(server)) addresses.set(server, await server.app.listen({ port: 0, host: '127.0.0.1' }));
    const address = addresses.get(server)!;
    const response = await request(`${address}/login`, { headers });
    await response.body.text();
    return String(([] as string[]).concat(response.headers['set-cookie'] ?? [])[0]);
  };
  const proxied = await startTestServer(t, { trustProxy: ['127.0.0.1'] });
  t.match(
    await loginCookie(proxied, { 'x-forwarded-proto': 'https', 'x-forwarded-for': '192.0.2.1' }),
    /; Secure/,
    'HTTPS at the proxy: Secure',
  );
  t.notMatch(await loginCookie(proxied, {}), /; Secure/, 'plain HTTP to the proxy: not Secure (the browser would drop it)');
  const direct = await startTestServer(t);
  t.notMatch(await loginCookie(direct, { 'x-forwarded-proto': 'https' }), /; Secure/, 'a forged header from an untrusted peer is ignored');

  // The session cookie itself, after a real sign-in through the proxy.
  await user(proxied, 'gus');
  const address = addresses.get(proxied)!;
  const form = await request(`${address}/login`, { headers: { 'x-forwarded-proto': 'https' } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.body.text())![1];
  const cookie = ([] as string[])
    .concat(form.headers['set-cookie'] ?? [])
    .map((line) => line.split(';')[0])
    .join('; ');
  const signedIn = await request(`${address}/login`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https', 'x-forwarded-for': '192.0.2.2' },
    body: new URLSearchParams({ _csrf: csrf, username: 'gus', password }).toString(),
  });
  await signedIn.body.text();
  t.equal(signedIn.statusCode, 303);
  const session = ([] as string[]).concat(signedIn.headers['set-cookie'] ?? []).find((line) => line.startsWith('sluice_session='));
  t.match(session, /HttpOnly/);
  t.match(session, /; Secure/, 'the session cookie is Secure');
});
