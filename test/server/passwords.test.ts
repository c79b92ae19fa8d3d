// Passwords changed through the API (issue 15): one's own only with the current password,
// checked under the sign-in limits, so that a stolen token alone cannot take over the portal
// account; an admin resets anyone's. Either ends the user's portal sessions and is audited.
// Each password check costs a scrypt hash at N = 2^17: the checks here are few.
import t from 'tap';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { hashPassword } from '../../server/auth/passwords.js';
import { reserveSignIn, signInLimits } from '../../server/auth/sign-in-limits.js';

const first = 'first password 1';
const passwordHash = await hashPassword(first);

async function signIn(server: TestServer, username: string, password: string) {
  const form = await server.app.inject({ method: 'GET', url: '/login' });
  const cookie = ([] as string[])
    .concat(form.headers['set-cookie'] ?? [])
    .map((line) => line.split(';')[0])
    .join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1];
  const response = await server.app.inject({
    method: 'POST',
    url: '/login',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: csrf, username, password }).toString(),
  });
  const session = ([] as string[]).concat(response.headers['set-cookie'] ?? []).find((line) => line.startsWith('sluice_session='));
  return { status: response.statusCode, session: session?.split(';')[0] };
}

const signedIn = async (server: TestServer, session: string) =>
  (await server.app.inject({ method: 'GET', url: '/staff', headers: { cookie: session } })).statusCode === 200;

t.test("one's own password: only with the current one; the sessions end", async (t) => {
  const server = await startTestServer(t);
  const { store } = server.app.sluice;
  const sam = await store.users.create({ username: 'sam', role: 'support', passwordHash }, new Date());
  const { session } = await signIn(server, 'sam', first);
  t.ok(session && (await signedIn(server, session)), 'signed in to the portal');

  const change = (body: object, token = sam.token) => server.call('PUT', '/api/v1/users/me/password', token, body);
  const without = await change({ password: 'second password 2' });
  t.equal(without.status, 403, 'a stolen token alone does not change the password');
  t.equal(without.json.error.code, 'password_incorrect');
  t.equal((await change({ password: 'second password 2', currentPassword: 'a guess' })).json.error.code, 'password_incorrect');
  t.equal((await change({ password: 'short', currentPassword: first })).status, 400, 'ten characters at least');
  const changed = await change({ password: 'second password 2', currentPassword: first });
  t.equal(changed.status, 200, changed.body);
  t.same(changed.json, { id: sam.id, sessionsEnded: 1 });
  t.notOk(await signedIn(server, session!), 'the portal session ended');
  t.equal((await signIn(server, 'sam', 'second password 2')).status, 303, 'the new password signs in');

  // The wrong current passwords above count as failed sign-ins for sam: the limit holds here too.
  for (let attempt = 2; attempt < signInLimits.perAccount; attempt++) await reserveSignIn(store, 'sam', '127.0.0.1', new Date());
  const limited = await change({ password: 'third password 3', currentPassword: 'second password 2' });
  t.equal(limited.status, 429, 'guessing the current password is limited like signing in');
  t.ok(Number(limited.headers['retry-after']) > 0);
  t.match((await server.call('GET', '/api/v1/audit?action=user.password.change', server.adminToken)).json, [
    { actor: 'user:sam', subject: 'user:sam' },
  ]);
});

t.test("an admin resets another user's password without knowing it; nobody else may", async (t) => {
  const server = await startTestServer(t);
  const { store } = server.app.sluice;
  await store.customers.create({ id: 'acme', name: 'Acme', timezone: 'UTC' }, new Date());
  const ana = await store.users.create({ username: 'ana', role: 'customer', customer: 'acme', passwordHash }, new Date());
  const other = await store.users.create({ username: 'bea', role: 'customer', customer: 'acme' }, new Date());
  t.equal(
    (await server.call('PUT', `/api/v1/users/${ana.id}/password`, other.token, { password: 'taken over 123' })).status,
    404,
    'not another customer user',
  );
  const reset = await server.call('PUT', `/api/v1/users/${ana.id}/password`, server.adminToken, { password: 'reset by admin 1' });
  t.equal(reset.status, 200, reset.body);
  t.equal((await signIn(server, 'ana', 'reset by admin 1')).status, 303, 'ana signs in with the reset password');
  t.match((await server.call('GET', '/api/v1/audit?action=user.password.reset', server.adminToken)).json, [
    { actor: 'user:admin', subject: 'user:ana' },
  ]);
  // The bootstrap admin has a token and no password: it sets its first one without a current one.
  t.equal((await server.call('PUT', '/api/v1/users/me/password', server.adminToken, { password: 'admin password 1' })).status, 200);
  t.equal((await server.call('PUT', '/api/v1/users/no-such-user/password', server.adminToken, { password: 'whatever 12345' })).status, 404);
});
