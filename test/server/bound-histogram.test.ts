// The histogram of the hot paths (server/metrics/bound-histogram.ts) writes exactly what
// prom-client's own Histogram writes for the same observations: same buckets (an observation
// on a bound counts in it), sums, counts and label sets, in the same text.
import t from 'tap';
import { Histogram, Registry } from 'prom-client';
import { BoundHistogram } from '../../server/metrics/bound-histogram.js';

const buckets = [0.001, 0.01, 0.1, 1];
const observations: [string, string, number][] = [
  ['GET', '/a/:id', 0],
  ['GET', '/a/:id', 0.001],
  ['GET', '/a/:id', 0.0011],
  ['POST', '/b', 0.5],
  ['POST', '/b', 7],
  ['GET', '/a/:id', 1000],
];

t.test("the same exposition as prom-client's Histogram", async (t) => {
  const theirs = new Registry();
  const reference = new Histogram({
    name: 'h_seconds',
    help: 'a "help" text',
    labelNames: ['method', 'route'],
    buckets,
    registers: [theirs],
  });
  const ours = new Registry();
  const bound = new BoundHistogram('h_seconds', 'a "help" text', ['method', 'route'], buckets, ours);
  const recorders = new Map<string, (value: number) => void>();
  for (const [method, route, value] of observations) {
    reference.observe({ method, route }, value);
    const key = `${method} ${route}`;
    if (!recorders.has(key)) recorders.set(key, bound.bind({ method, route }));
    recorders.get(key)!(value);
  }
  t.equal(await ours.metrics(), await theirs.metrics());
  bound.bind({ method: 'GET', route: '/a/:id' })(0.05);
  reference.observe({ method: 'GET', route: '/a/:id' }, 0.05);
  t.equal(await ours.metrics(), await theirs.metrics(), 'binding a label set again records into the same series');
  ours.resetMetrics();
  theirs.resetMetrics();
  t.match(await ours.metrics(), /h_seconds_count\{method="GET",route="\/a\/:id"\} 0/, 'reset zeroes the series it knows');
});
