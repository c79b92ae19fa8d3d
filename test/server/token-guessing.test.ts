// Authentication failures on the API are rate-limited per address (server/auth/failure-limiter.ts):
// after 20 unknown tokens in a minute the address gets 429 with Retry-After for unknown tokens,
// until the oldest failure leaves the window. A valid token is looked up first and always
// served, so a guesser behind a customer's NAT cannot lock out that customer's devices
// (issue 15). Behind a proxy named by --trust-proxy, the address is the forwarded client's;
// without it, a forged X-Forwarded-For changes nothing. Real HTTP on 127.0.0.1.
import t from 'tap';
import { request } from 'undici';
import { startTestServer, seedFleet } from '../helpers/server.js';
import { defaultFailureLimits } from '../../server/auth/failure-limiter.js';
import { parseTrustProxy, resolveOptions } from '../../server/config.js';

const limit = defaultFailureLimits.maximumFailures;

async function listening(t: Parameters<typeof startTestServer>[0], options: Parameters<typeof startTestServer>[1] = {}) {
  const server = await startTestServer(t, options);
  const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const get = async (path: string, authorization?: string, forwardedFor?: string) => {
    const response = await request(`${address}${path}`, {
      headers: { ...(authorization ? { authorization } : {}), ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, json: text.startsWith('{') ? JSON.parse(text) : null };
  };
  return { server, address, get };
}

t.test('guessing tokens is slowed down, then allowed again; a valid token is never refused for it', async (t) => {
  let offset = 0;
  const { server, get } = await listening(t, { now: () => new Date(Date.now() + offset) });
  for (let guess = 0; guess < limit; guess++) {
    t.equal((await get('/api/v1/plans', `Bearer guess-${guess}`)).status, 401, `guess ${guess}`);
  }
  const blocked = await get('/api/v1/plans', 'Bearer one-more-guess');
  t.equal(blocked.status, 429);
  t.equal(blocked.json.error.code, 'rate_limited');
  t.ok(
    Number(blocked.headers['retry-after']) > 0 && Number(blocked.headers['retry-after']) <= 60,
    `Retry-After: ${blocked.headers['retry-after']}`,
  );
  t.equal((await get('/api/v1/plans', `Bearer ${server.adminToken}`)).status, 200, 'a valid token from the same address is served');
  t.equal((await get('/api/v1/plans', 'Bearer still-guessing')).status, 429, "and serving it did not reset the guesser's count");
  t.equal((await get('/api/v1/trust/root.json')).status, 200, 'requests without a token are not affected');
  offset = (defaultFailureLimits.windowSeconds + 1) * 1000;
  t.equal(
    (await get('/api/v1/plans', 'Bearer late-guess')).status,
    401,
    'unknown tokens are judged again once the failures left the window',
  );
});

t.test('the hawkBit DDI routes count the same failures, and serve valid target tokens throughout', async (t) => {
  const { server, get } = await listening(t);
  const fleet = await seedFleet(server);
  const deviceToken = await fleet.addDevice('emu-0001');
  for (let guess = 0; guess < limit; guess++) {
    t.equal((await get('/DEFAULT/controller/v1/emu-0001', `TargetToken guess-${guess}`)).status, 401, `guess ${guess}`);
  }
  const blocked = await get('/DEFAULT/controller/v1/emu-0001', 'TargetToken one-more-guess');
  t.equal(blocked.status, 429);
  t.equal(blocked.json.error.code, 'rate_limited');
  t.ok(Number(blocked.headers['retry-after']) > 0, 'Retry-After');
  t.equal(
    (await get('/api/v1/plans', 'Bearer also-a-guess')).status,
    429,
    'and the JSON API refuses unknown tokens too: one count per address',
  );
  t.equal(
    (await get('/DEFAULT/controller/v1/emu-0001', `TargetToken ${deviceToken}`)).status,
    200,
    'the device behind the same NAT still polls',
  );
  t.equal((await get('/api/v1/plans', `Bearer ${fleet.tokens.support}`)).status, 200, 'and its staff still work');
});

t.test('--trust-proxy: the forwarded client is counted, each on its own; an IPv6 client by its /64', async (t) => {
  const { get } = await listening(t, { trustProxy: ['127.0.0.1'] });
  for (let guess = 0; guess < limit; guess++) await get('/api/v1/plans', `Bearer guess-${guess}`, '203.0.113.9');
  t.equal((await get('/api/v1/plans', 'Bearer guess', '203.0.113.9')).status, 429, 'the guesser, as the proxy forwards it, is limited');
  t.equal((await get('/api/v1/plans', 'Bearer typo', '198.51.100.7')).status, 401, 'another client behind the same proxy is not');
  t.equal(
    (await get('/api/v1/plans', 'Bearer typo', '203.0.113.99, 203.0.113.9')).status,
    429,
    "a client-supplied X-Forwarded-For in front of the proxy's entry does not hide the guesser",
  );

  for (let guess = 0; guess < limit; guess++) await get('/api/v1/plans', `Bearer v6-${guess}`, `2001:db8:1:2::${(guess + 1).toString(16)}`);
  t.equal(
    (await get('/api/v1/plans', 'Bearer v6', '2001:db8:1:2:ffff::1')).status,
    429,
    'a new address in the same /64 is the same client',
  );
  t.equal((await get('/api/v1/plans', 'Bearer v6', '2001:db8:1:3::1')).status, 401, 'the next /64 is another');
});

t.test('without --trust-proxy a forged X-Forwarded-For is ignored: the guesser cannot spread its guesses', async (t) => {
  const { get } = await listening(t);
  for (let guess = 0; guess < limit; guess++) {
    t.equal((await get('/api/v1/plans', `Bearer guess-${guess}`, `198.51.100.${guess}`)).status, 401);
  }
  t.equal((await get('/api/v1/plans', 'Bearer guess', '198.51.100.200')).status, 429, "counted as the connection's address");
});

t.test('--trust-proxy entries are checked before the server starts', async (t) => {
  t.throws(() => resolveOptions({ trustProxy: ['10.0.0.0/33'] }), /trustProxy: "10\.0\.0\.0\/33" is not an IP address, a CIDR/);
  t.throws(() => resolveOptions({ trustProxy: ['proxy.example.com'] }), /not an IP address/);
  t.same(parseTrustProxy(' 10.0.0.1, 192.168.0.0/16,loopback,::1 '), ['10.0.0.1', '192.168.0.0/16', 'loopback', '::1']);
  t.throws(() => parseTrustProxy(','), /--trust-proxy needs at least one address/);
});
