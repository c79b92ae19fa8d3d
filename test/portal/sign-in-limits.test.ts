// Portal sign-in against guessing (issue 15), over real HTTP on 127.0.0.1: attempts counted per
// account and per address separately and reserved before the password is hashed, so that 200
// parallel guesses reach scrypt at most five times, also when spread over two servers on one
// database. scrypt at N = 2^17 takes a few hundred milliseconds: hashed attempts here are few,
// and counters are filled beforehand through the same reservation the portal makes.
import t from 'tap';
import { request } from 'undici';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { hashPassword } from '../../server/auth/passwords.js';
import { reserveSignIn, signInLimits } from '../../server/auth/sign-in-limits.js';

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

const tally = (statuses: number[]) =>
  statuses.reduce<Record<number, number>>((counts, status) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {});

t.test('200 parallel guesses for one account: at most five reach the password hash', async (t) => {
  const server = await startTestServer(t, { trustProxy: ['127.0.0.1'] });
  await user(server, 'ana');
  const { signIn } = await portal(server);
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, guess) => signIn('ana', `guess-${guess}`, `198.51.100.${guess % 250}`)),
  );
  const counts = tally(results.map((result) => result.status));
  t.equal(counts[401], signInLimits.perAccount, `five wrong passwords judged, the rest refused before hashing: ${JSON.stringify(counts)}`);
  t.equal(counts[429], 200 - signInLimits.perAccount);
  t.ok(Number(results.find((result) => result.status === 429)!.retryAfter) > 0, 'Retry-After on the refusal');
  t.equal((await signIn('ana', password, '203.0.113.5')).status, 429, 'the account is locked for its window, from any address');
});

t.test("one address's typos lock that account only; the address limit stops spraying", async (t) => {
  const server = await startTestServer(t, { trustProxy: ['127.0.0.1'] });
  await user(server, 'bob');
  await user(server, 'cy');
  const { signIn } = await portal(server);
  const { store } = server.app.sluice;
  const office = '192.0.2.10';
  // Four of bob's typos as the portal reserves them, the fifth a real one.
  for (let typo = 1; typo < signInLimits.perAccount; typo++) t.ok((await reserveSignIn(store, 'bob', office, new Date())).granted);
  t.equal((await signIn('bob', 'typo', office)).status, 401, 'a typo');
  t.equal((await signIn('bob', password, office)).status, 429, 'bob is locked after five');
  t.equal((await signIn('cy', password, office)).status, 303, 'cy signs in from the same office address');

  // Spraying: one address, a different user name each time, unknown ones included.
  const sprayer = '203.0.113.66';
  for (let name = 0; name < signInLimits.perAddress; name++)
    t.ok((await reserveSignIn(store, `someone-${name}`, sprayer, new Date())).granted);
  t.equal((await signIn('cy', 'Winter2026!', sprayer)).status, 429, 'the address is refused after its limit, whatever the name');
  t.equal((await signIn('cy', password, '198.51.100.3')).status, 303, 'and cy, elsewhere, is not affected');
});

t.test('two servers on one database share the count', async (t) => {
  const first = await startTestServer(t, { trustProxy: ['127.0.0.1'] });
  await user(first, 'dee');
  const second = await startTestServer(t, { trustProxy: ['127.0.0.1'], dataDir: first.dataDir, databaseUrl: first.databaseUrl });
  const [one, two] = [await portal(first), await portal(second)];
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, guess) => (guess % 2 ? one : two).signIn('dee', `guess-${guess}`, `198.51.100.${guess}`)),
  );
  t.equal(
    tally(results.map((result) => result.status))[401],
    signInLimits.perAccount,
    "five judged in all, across both processes' connections",
  );
});
