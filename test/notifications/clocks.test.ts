// The clocks' terms end to end on one server with a fake clock: a customer's own contract
// terms (admin sets them) move its faults' due times, warnings, breaches and SLA report while
// another customer keeps the seed's table; a question staff ask pauses the clock until the
// customer answers it (API, console and portal), and the due time moves by the wait.
import t from 'tap';
import { startTestServer, seedFleet } from '../helpers/server.js';
import { portalOf } from './portal.js';

const minute = 60_000;

async function setUp(t: Parameters<typeof startTestServer>[0], start: string) {
  let clock = new Date(start);
  const server = await startTestServer(t, {
    now: () => clock,
    notificationWorker: { enabled: false, intervalMs: 1000, leaseSeconds: 10, webhookTimeoutMs: 2000, maxAttempts: 3 },
  });
  const fleet = await seedFleet(server);
  const must = async (method: string, url: string, token: string, body?: unknown) => {
    const response = await server.call(method, url, token, body);
    if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${response.body}`);
    return response.json;
  };
  const advance = (milliseconds: number) => {
    clock = new Date(clock.getTime() + milliseconds);
  };
  return { server, fleet, must, advance, tick: () => server.app.notifications.tick() };
}

t.test("a customer's contract terms change its clocks; the seed's table stays the default; only admin sets them", async (t) => {
  // Tuesday 16:40 UTC: 20 minutes of service time are left today (08:00–17:00 UTC).
  const { server, fleet, must, advance, tick } = await setUp(t, '2026-12-01T16:40:00Z');
  const admin = server.adminToken;
  await must('POST', '/api/v1/customers', admin, { id: 'beta', name: 'Beta', timezone: 'UTC' });
  const seeded = await must('GET', '/api/v1/customers/acme/contract', fleet.tokens.customer);
  t.same(seeded.changed, []);
  t.same(seeded.classes.A, { acknowledgeMinutes: 15, aroundTheClock: true }, "the seed's table");
  t.same(seeded.classes.C, { acknowledgeMinutes: 45, aroundTheClock: false });
  const terms = { classes: { C: { acknowledgeMinutes: 20, aroundTheClock: true } } };
  t.equal((await server.call('PUT', '/api/v1/customers/acme/contract', fleet.tokens.support, terms)).status, 403, 'admin sets terms');
  t.equal((await server.call('GET', '/api/v1/customers/beta/contract', fleet.tokens.customer)).status, 404, "not another customer's");
  t.equal((await server.call('PUT', '/api/v1/customers/nobody/contract', admin, terms)).status, 404);
  for (const bad of [
    { classes: { E: { acknowledgeMinutes: 20, aroundTheClock: true } } },
    { classes: { C: { acknowledgeMinutes: 0, aroundTheClock: true } } },
    { classes: { C: { acknowledgeMinutes: 20.5, aroundTheClock: true } } },
    { classes: { C: { acknowledgeMinutes: 20 } } },
  ]) {
    const refused = await server.call('PUT', '/api/v1/customers/acme/contract', admin, bad);
    t.equal(refused.json?.error?.code, 'validation_failed', `refused: ${JSON.stringify(bad)}`);
  }
  t.same((await must('GET', '/api/v1/customers/acme/contract', admin)).changed, [], 'refused terms left nothing behind');
  const saved = await must('PUT', '/api/v1/customers/acme/contract', admin, terms);
  t.same(saved.changed, ['C']);
  t.same(saved.classes.C, terms.classes.C);

  const own = await must('POST', '/api/v1/faults', fleet.tokens.customer, { class: 'C', title: 'Dashboard slow' });
  const seed = await must('POST', '/api/v1/faults', fleet.tokens.support, { customer: 'beta', class: 'C', title: 'Dashboard slow' });
  t.equal(own.due.acknowledgeBy, '2026-12-01T17:00:00.000Z', "acme's C: 20 minutes around the clock");
  t.equal(own.clock.serviceHours, false);
  t.equal(seed.due.acknowledgeBy, '2026-12-02T08:25:00.000Z', "beta's C: 45 service minutes, 20 today and 25 tomorrow");
  t.equal(seed.clock.serviceHours, true);

  advance(16 * minute);
  t.match(await tick(), { timed: 1 }, "at 80 % of acme's 20 minutes: the warning; beta's clock stopped at 17:00");
  advance(5 * minute);
  t.match(await tick(), { timed: 1 }, 'past 20 minutes: the breach');
  const events = async (fault: string) =>
    ((await must('GET', `/api/v1/notifications?subject=fault:${fault}`, fleet.tokens.support)) as any[]).map((entry) => entry.event);
  t.same((await events(own.id)).sort(), ['fault.breached', 'fault.clock_warning', 'fault.reported']);
  t.same(await events(seed.id), ['fault.reported'], 'nothing for the fault counted in service hours');
  const breached = await must('GET', `/api/v1/notifications?subject=fault:${own.id}&event=fault.breached`, fleet.tokens.support);
  t.equal(breached[0].data.dueAt, '2026-12-01T17:00:00.000Z', 'the breach names the due time of the terms');
  const report = await must('GET', '/api/v1/sla/report', fleet.tokens.support);
  t.same(report.classes.C.breaches, [{ id: own.id, acknowledge: true, resolve: false }], 'the SLA report counts by the terms too');
  t.same(
    await must('PUT', '/api/v1/customers/acme/contract', admin, { classes: {} }).then((reply) => reply.changed),
    [],
    'back to the seed',
  );
  t.equal((await must('GET', `/api/v1/faults/${own.id}`, admin)).due.acknowledgeBy, '2026-12-02T08:25:00.000Z');
  await must('PUT', '/api/v1/customers/acme/contract', admin, { classes: { D: { acknowledgeMinutes: 90, aroundTheClock: false } } });
  const page = await (await portalOf(server, 'customer-acme')).get('/portal/faults');
  t.match(page, /D \(question\): processing starts within 1 h 30 min/, "the portal explains the classes by the customer's terms");
});

t.test('a question pauses the clock until the customer answers it; the due time moves by the wait', async (t) => {
  const { server, fleet, must, advance, tick } = await setUp(t, '2026-12-01T10:00:00Z');
  const fault = await must('POST', '/api/v1/faults', fleet.tokens.customer, { class: 'B', title: 'Readings drift' });
  advance(10 * minute);
  const text = 'Which firmware does the meter show?';
  t.equal((await server.call('POST', `/api/v1/faults/${fault.id}/questions`, fleet.tokens.customer, { text })).status, 403, 'staff ask');
  t.equal((await server.call('POST', `/api/v1/faults/${fault.id}/questions`, fleet.tokens.support, { text: '' })).status, 400);
  const asked = await must('POST', `/api/v1/faults/${fault.id}/questions`, fleet.tokens.support, { text });
  t.match(asked.clock, { paused: true });
  t.match(asked.questions, [{ text, askedBy: 'user:support-acme', answer: null, answeredAt: null }]);
  const question = asked.questions[0].id;
  advance(40 * minute);
  const waiting = await must('GET', `/api/v1/faults/${fault.id}`, fleet.tokens.customer);
  t.match(
    waiting.clock,
    { paused: true, pausedSeconds: 40 * 60, acknowledge: { countedSeconds: 10 * 60, breached: false } },
    'the 30 minute clock stands at 10 while the question waits',
  );
  t.match(await tick(), { timed: 0 }, 'no warning, no breach while paused');

  const answer = { answer: 'Version 1.0.0' };
  t.equal((await server.call('POST', `/api/v1/faults/${fault.id}/questions/${question}/answer`, fleet.tokens.support, answer)).status, 403);
  t.equal((await server.call('POST', `/api/v1/faults/${fault.id}/questions/nope/answer`, fleet.tokens.customer, answer)).status, 404);
  t.equal((await server.call('POST', `/api/v1/faults/${fault.id}/questions/${question}/answer`, fleet.tokens.customer, {})).status, 400);
  await must('POST', '/api/v1/customers', server.adminToken, { id: 'beta', name: 'Beta', timezone: 'UTC' });
  const stranger = (await must('POST', '/api/v1/users', server.adminToken, { username: 'beta-ops', role: 'customer', customer: 'beta' }))
    .token;
  t.equal(
    (await server.call('POST', `/api/v1/faults/${fault.id}/questions/${question}/answer`, stranger, answer)).status,
    404,
    "another customer's user cannot see the fault, let alone answer",
  );
  const answered = await must('POST', `/api/v1/faults/${fault.id}/questions/${question}/answer`, fleet.tokens.customer, answer);
  t.match(answered.clock, { paused: false, pausedSeconds: 40 * 60 });
  t.match(answered.questions, [{ answer: 'Version 1.0.0', answeredBy: 'user:customer-acme' }]);
  t.equal(answered.due.acknowledgeBy, '2026-12-01T11:10:00.000Z', '30 minutes plus the 40 spent waiting');
  const again = await server.call('POST', `/api/v1/faults/${fault.id}/questions/${question}/answer`, fleet.tokens.customer, answer);
  t.equal(again.json?.error?.code, 'conflict', 'answered once');

  // The console asks, the portal answers.
  const console = await portalOf(server, 'support-acme');
  t.equal((await console.post(`/staff/faults/${fault.id}/questions`, { text: 'Is the meter powered?' })).statusCode, 303);
  t.match(await console.get(`/staff/faults/${fault.id}`), /Is the meter powered\?[\s\S]*the clock is paused/);
  const portal = await portalOf(server, 'customer-acme');
  const page = await portal.get('/portal/faults');
  t.match(page, /Is the meter powered\?/, 'the customer sees the question');
  t.match(page, /paused 40 min in all/, 'and the time paused');
  const action = /action="(\/portal\/faults\/[^"]+\/answer)"/.exec(page)?.[1];
  t.ok(action, 'with a form to answer it');
  t.equal((await portal.post(action!, { answer: '' })).statusCode, 422, 'an empty answer is refused');
  advance(5 * minute);
  t.equal((await portal.post(action!, { answer: 'Yes, the lights are on' })).statusCode, 303);
  const after = await must('GET', `/api/v1/faults/${fault.id}`, fleet.tokens.support);
  t.match(after.clock, { paused: false, pausedSeconds: 45 * 60 });
  t.match(await console.get(`/staff/faults/${fault.id}`), /Yes, the lights are on/, 'the console shows the answer');
  const audit = await must('GET', `/api/v1/audit?subject=fault:${fault.id}`, server.adminToken);
  t.ok(
    ['fault.question', 'fault.answer'].every((action) => JSON.stringify(audit).includes(action)),
    'questions and answers are audited',
  );

  await must('POST', `/api/v1/faults/${fault.id}/resolve`, fleet.tokens.support, { resolution: 'Reflashed' });
  const late = await server.call('POST', `/api/v1/faults/${fault.id}/questions`, fleet.tokens.support, { text });
  t.equal(late.json?.error?.code, 'conflict', 'a resolved fault has no clock to pause');
});
