// Authentication failures on the API are rate-limited per address (server/auth/failure-limiter.ts):
// after 20 unknown tokens in a minute the address gets 429 with Retry-After, valid tokens
// included, until the oldest failure leaves the window.
import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { defaultFailureLimits } from '../../server/auth/failure-limiter.js';

t.test('guessing tokens is slowed down, then allowed again', async (t) => {
  let offset = 0;
  const server = await startTestServer(t, { now: () => new Date(Date.now() + offset) });
  for (let guess = 0; guess < defaultFailureLimits.maximumFailures; guess++) {
    const response = await server.call('GET', '/api/v1/plans', `guess-${guess}`);
    t.equal(response.status, 401, `guess ${guess}`);
  }
  const blocked = await server.call('GET', '/api/v1/plans', 'one-more-guess');
  t.equal(blocked.status, 429);
  t.equal(blocked.json.error.code, 'rate_limited');
  t.ok(Number(blocked.headers['retry-after']) > 0 && Number(blocked.headers['retry-after']) <= 60, `Retry-After: ${blocked.headers['retry-after']}`);
  t.equal((await server.call('GET', '/api/v1/plans', server.adminToken)).status, 429, 'a valid token from the same address waits too: no oracle for guesses');
  t.equal((await server.call('GET', '/api/v1/trust/root.json')).status, 200, 'requests without a token are not affected');
  offset = (defaultFailureLimits.windowSeconds + 1) * 1000;
  t.equal((await server.call('GET', '/api/v1/plans', server.adminToken)).status, 200, 'allowed again once the failures left the window');
});

t.test('the hawkBit DDI routes count the same failures', async (t) => {
  const server = await startTestServer(t);
  const poll = (token: string) => server.app.inject({
    method: 'GET', url: '/DEFAULT/controller/v1/emu-0001', headers: { authorization: `TargetToken ${token}` },
  });
  for (let guess = 0; guess < defaultFailureLimits.maximumFailures; guess++) {
    t.equal((await poll(`guess-${guess}`)).statusCode, 401, `guess ${guess}`);
  }
  const blocked = await poll('one-more-guess');
  t.equal(blocked.statusCode, 429);
  t.equal(blocked.json().error.code, 'rate_limited');
  t.ok(Number(blocked.headers['retry-after']) > 0, 'Retry-After');
  t.equal((await server.call('GET', '/api/v1/plans', server.adminToken)).status, 429, 'and the JSON API waits too: one count per address');
});
