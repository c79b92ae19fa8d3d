// The fleet's gauges of GET /metrics follow the contract's clocks (docs/metrics.md): a fault's
// acknowledge and resolve clocks run out at the scrape, with the server's clock, and taking
// the step ends the breach; the gauges agree with the `breaches` of GET /api/v1/faults. Two
// scrapes at once read the same fleet.
import t from 'tap';
import { startTestServer, seedFleet } from '../helpers/server.js';
import { parseExposition } from '../helpers/prometheus.js';

t.test('SLA breaches appear when a clock runs out and go when the step is taken', async (t) => {
  let clock = new Date('2026-11-10T09:00:00.000Z');
  const server = await startTestServer(t, { now: () => clock });
  const fleet = await seedFleet(server);
  const support = fleet.tokens.support;
  const advance = (minutes: number) => {
    clock = new Date(clock.getTime() + minutes * 60_000);
  };
  const scrape = async () => {
    const response = await server.call('GET', '/metrics', support);
    t.equal(response.status, 200);
    return parseExposition(response.body);
  };
  const breaches = async () => {
    const scraped = await scrape();
    return Object.fromEntries(
      scraped
        .series('sluice_sla_breaches')
        .filter((sample) => sample.value > 0)
        .map((sample) => [`${sample.labels.class} ${sample.labels.clock}`, sample.value]),
    );
  };
  const open = async (faultClass: string, severity: string) =>
    (await server.call('POST', '/api/v1/faults', support, { customer: 'acme', class: faultClass, severity, title: `class ${faultClass}` }))
      .json.id as string;
  const major = await open('A', 'major');
  await open('C', 'general');

  t.same(await breaches(), {}, 'just reported: nothing late');
  advance(16);
  t.same(await breaches(), { 'A acknowledge': 1 }, 'class A unacknowledged after 15 minutes');
  t.same(
    (await server.call('GET', `/api/v1/faults/${major}`, support)).json.breaches,
    { acknowledge: true, resolve: false },
    'as GET /faults says',
  );
  t.equal((await server.call('POST', `/api/v1/faults/${major}/acknowledge`, support, {})).status, 200);
  t.same(await breaches(), {}, 'acknowledged (late): no longer waiting on that step');
  advance(30);
  t.same(await breaches(), { 'C acknowledge': 1 }, 'class C unacknowledged after 45 minutes');
  advance(15);
  t.same(await breaches(), { 'A resolve': 1, 'C acknowledge': 1 }, 'class A major unresolved after an hour');
  const scraped = await scrape();
  t.equal(scraped.value('sluice_faults_open', { class: 'A', status: 'acknowledged' }), 1);
  t.equal(scraped.value('sluice_faults_open', { class: 'C', status: 'open' }), 1);

  t.equal((await server.call('POST', `/api/v1/faults/${major}/resolve`, support, { resolution: 'replaced the meter' })).status, 200);
  const resolved = await scrape();
  t.same(await breaches(), { 'C acknowledge': 1 }, 'resolved: the A fault leaves the gauge');
  t.equal(resolved.value('sluice_faults_open', { class: 'A' }), 0, 'and the open faults');

  const [first, second] = await Promise.all([scrape(), scrape()]);
  const fleetLines = (scrape: ReturnType<typeof parseExposition>) =>
    scrape.samples.filter((sample) => /^sluice_(plans|faults_open|sla_breaches)$/.test(sample.name));
  t.same(fleetLines(first), fleetLines(second), 'two scrapes at once show the same fleet');
  t.equal(fleetLines(first).length, 16 + 12 + 6, 'every series of the fleet gauges, in each');
});
