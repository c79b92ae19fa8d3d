// The token-guessing limiter as a table of cases over a plain clock.
import t from 'tap';
import { addressKey, createFailureLimiter } from '../../server/auth/failure-limiter.js';

const options = { maximumFailures: 3, windowSeconds: 60, maximumAddresses: 2 };

const cases: { name: string; failures: [string, number][]; ask: [string, number]; retryAfter: number }[] = [
  { name: 'no failures', failures: [], ask: ['a', 0], retryAfter: 0 },
  {
    name: 'below the limit',
    failures: [
      ['a', 0],
      ['a', 1000],
    ],
    ask: ['a', 2000],
    retryAfter: 0,
  },
  {
    name: 'at the limit: wait for the oldest to leave the window',
    failures: [
      ['a', 0],
      ['a', 1000],
      ['a', 2000],
    ],
    ask: ['a', 3000],
    retryAfter: 57,
  },
  {
    name: 'the oldest failure has left the window',
    failures: [
      ['a', 0],
      ['a', 1000],
      ['a', 2000],
    ],
    ask: ['a', 60_001],
    retryAfter: 0,
  },
  {
    name: 'counted per address',
    failures: [
      ['a', 0],
      ['a', 1000],
      ['a', 2000],
    ],
    ask: ['b', 3000],
    retryAfter: 0,
  },
  {
    name: 'more failures than the limit: the newest count',
    failures: [
      ['a', 0],
      ['a', 30_000],
      ['a', 40_000],
      ['a', 50_000],
    ],
    ask: ['a', 61_000],
    retryAfter: 29,
  },
  {
    name: 'never less than a second',
    failures: [
      ['a', 0],
      ['a', 1],
      ['a', 2],
    ],
    ask: ['a', 59_999],
    retryAfter: 1,
  },
  {
    name: 'a full table evicts the least recent address',
    failures: [
      ['a', 0],
      ['a', 1],
      ['a', 2],
      ['b', 3],
      ['c', 4],
    ],
    ask: ['a', 5],
    retryAfter: 0,
  },
  {
    name: 'a recorded address is recent again',
    failures: [
      ['a', 0],
      ['a', 1],
      ['b', 2],
      ['a', 3],
      ['c', 4],
    ],
    ask: ['a', 5],
    retryAfter: 60,
  },
];

for (const { name, failures, ask, retryAfter } of cases) {
  t.test(name, async (t) => {
    const limiter = createFailureLimiter(options);
    for (const [address, at] of failures) limiter.record(address, at);
    t.equal(limiter.retryAfter(...ask), retryAfter);
  });
}

// What the limit counts by: an IPv6 client by its /64, which one host is routinely given.
const addresses: [string, string][] = [
  ['192.0.2.7', '192.0.2.7'],
  ['::ffff:192.0.2.7', '192.0.2.7'],
  ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
  ['2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
  ['2001:db8::1', '2001:db8:0:0::/64'],
  ['::1', '0:0:0:0::/64'],
  ['fe80::1%eth0', 'fe80:0:0:0::/64'],
];
for (const [address, key] of addresses) {
  t.test(`addressKey(${address})`, async (t) => t.equal(addressKey(address), key));
}
