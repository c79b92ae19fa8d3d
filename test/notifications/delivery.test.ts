// Notifications end to end on one server, with real peers on 127.0.0.1 (an SMTP server whose
// mails are parsed, webhook receivers that check signatures) and a fake clock driving the
// worker: a class A fault reaches the on-call engineer's webhook and mailbox, a warning comes
// at 80 % of the clock and the breach escalates; every event is delivered once however often
// the worker runs; a failing or redirecting receiver is retried with backoff, every attempt
// listed; the maintenance window's reminders come 24 h and 1 h before, in the recipient's zone
// and language of dates, to the maintenance staff the customer named too, with the plan's
// iCalendar attached.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startTestServer, seedFleet, signedManifest, uploadRelease, type TestServer } from '../helpers/server.js';
import { startMailbox, startReceiver } from './peers.js';
import { NotificationWorker } from '../../server/notifications/worker.js';
import { portalOf } from './portal.js';
import { relayOptions } from '../../server/notifications/mail.js';

const secret = 'a-webhook-secret-of-some-length';
const minute = 60_000;

async function setUp(t: Parameters<typeof startTestServer>[0], start: string, relay?: string) {
  let clock = new Date(start);
  const mailbox = await startMailbox(t);
  const server = await startTestServer(t, {
    now: () => clock,
    smtpUrl: relay ?? mailbox.url,
    mailFrom: 'sluice@vendor.test',
    publicUrl: 'https://updates.vendor.test',
    notificationWorker: { enabled: false, intervalMs: 1000, leaseSeconds: 10, webhookTimeoutMs: 2000, maxAttempts: 3 },
  });
  const fleet = await seedFleet(server);
  const admin = server.adminToken;
  const must = async (method: string, url: string, token: string, body?: unknown) => {
    const response = await server.call(method, url, token, body);
    if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${response.body}`);
    return response.json;
  };
  for (const [username, role] of [
    ['oncall', 'support'],
    ['boss', 'support'],
  ])
    await must('POST', '/api/v1/users', admin, { username, role });
  await must('PUT', '/api/v1/notifications/contacts/oncall', admin, { email: 'oncall@vendor.test', onCall: true, timezone: 'Asia/Tokyo' });
  await must('PUT', '/api/v1/notifications/contacts/boss', admin, { email: 'boss@vendor.test', escalation: true });
  await must('PUT', '/api/v1/notifications/contacts/support-acme', admin, { email: 'desk@vendor.test' });
  await must('PUT', '/api/v1/notifications/contacts/customer-acme', admin, { email: 'ops@acme.test' });
  const tick = () => server.app.notifications.tick();
  const advance = (milliseconds: number) => {
    clock = new Date(clock.getTime() + milliseconds);
  };
  return { server, fleet, mailbox, must, tick, advance, now: () => clock };
}

const notificationsOf = async (server: TestServer, token: string, subject: string) =>
  (await server.call('GET', `/api/v1/notifications?subject=${encodeURIComponent(subject)}`, token)).json as any[];

t.test('a class A fault at 03:00: on-call hears at once, a warning before the breach, the breach escalates, each once', async (t) => {
  // A Sunday night: A runs around the clock.
  const { server, fleet, mailbox, must, tick, advance } = await setUp(t, '2026-12-06T03:00:00Z');
  const receiver = await startReceiver(t, secret);
  const refused = await server.call('POST', '/api/v1/webhooks', fleet.tokens.support, {
    url: 'ftp://127.0.0.1/x',
    events: ['fault.reported'],
    secret,
  });
  t.equal(refused.json?.error?.code, 'invalid_webhook_url', 'only http(s)');
  t.equal(
    (await server.call('POST', '/api/v1/webhooks', fleet.tokens.support, { url: receiver.url, events: ['no.such_event'], secret })).status,
    400,
    'unknown events refused',
  );
  t.equal(
    (await server.call('POST', '/api/v1/webhooks', fleet.tokens.customer, { url: receiver.url, events: ['fault.reported'], secret }))
      .status,
    403,
    'customers may not subscribe',
  );
  const hook = await must('POST', '/api/v1/webhooks', fleet.tokens.support, {
    url: receiver.url,
    events: ['fault.reported', 'fault.clock_warning', 'fault.breached'],
    secret,
  });
  t.notOk('secret' in hook, 'the secret is never shown');
  t.same(
    (await must('GET', '/api/v1/webhooks', fleet.tokens.support)).map((entry: any) => entry.id),
    [hook.id],
  );

  const fault = await must('POST', '/api/v1/faults', fleet.tokens.customer, { class: 'A', severity: 'major', title: 'Meter offline' });
  t.match(
    fault.clock,
    { serviceHours: false, paused: false, pausedSeconds: 0, acknowledge: { dueAt: '2026-12-06T03:15:00.000Z', remainingSeconds: 900 } },
    'the fault says how its clocks count',
  );
  t.equal(receiver.received.length, 0, 'nothing is sent inside the request');
  t.match(await tick(), { leader: true, fannedOut: 1, delivered: 3 });
  t.equal(receiver.received.length, 1, 'the webhook got the report');
  t.match(receiver.received[0], {
    event: 'fault.reported',
    signatureValid: true,
    body: { event: 'fault.reported', subject: `fault:${fault.id}`, data: { class: 'A', fault: fault.id } },
  });
  t.match(receiver.received[0].body.link, /^https:\/\/updates\.vendor\.test\/portal\/faults/);
  const onCall = mailbox.to('oncall@vendor.test');
  t.equal(onCall.length, 1, 'class A goes to the on-call engineer at once');
  t.match(onCall[0].subject, new RegExp(`Fault ${fault.id} reported \\(class A`));
  t.match(onCall[0].text, /12:15/, 'acknowledge-by 03:15 UTC written in Tokyo time');
  t.equal(mailbox.to('ops@acme.test').length, 1, 'the customer gets its receipt');
  t.equal(mailbox.to('desk@vendor.test').length, 0, 'not every desk user: A goes to on-call');

  t.match(await tick(), { fannedOut: 0, attempted: 0 }, 'a second run sends nothing again');
  advance(12 * minute);
  t.match(await tick(), { timed: 1 }, 'at 80 % of 15 minutes: the warning');
  t.match(await tick(), { timed: 0, attempted: 0 }, 'once');
  advance(4 * minute);
  t.match(await tick(), { timed: 1 }, 'past 15 minutes: the breach');
  t.same(
    receiver.received.map((entry) => entry.event),
    ['fault.reported', 'fault.clock_warning', 'fault.breached'],
  );
  t.ok(receiver.received.every((entry) => entry.signatureValid));
  t.equal(new Set(receiver.received.map((entry) => entry.delivery)).size, 3, 'one delivery id per event');
  t.equal(mailbox.to('boss@vendor.test').length, 1, 'the breach escalates to the second contact');
  t.match(mailbox.to('boss@vendor.test')[0].subject, /acknowledge clock ran out/);
  t.equal(mailbox.to('oncall@vendor.test').length, 3, 'on-call hears of report, warning and breach');

  // A second worker (another process) while the lease is held: it does nothing.
  const other = new NotificationWorker(server.app.sluice);
  t.match(await other.tick(), { leader: false });
  const listed = await notificationsOf(server, fleet.tokens.support, `fault:${fault.id}`);
  t.same(listed.map((entry) => entry.event).sort(), ['fault.breached', 'fault.clock_warning', 'fault.reported']);
  const reported = listed.find((entry) => entry.event === 'fault.reported');
  t.same(
    reported.deliveries
      .map((delivery: any) => `${delivery.channel} ${delivery.target} ${delivery.status} ${delivery.attemptLog.length}`)
      .sort(),
    ['email customer-acme delivered 1', 'email oncall delivered 1', `webhook ${hook.id} delivered 1`],
  );
  const asCustomer = await notificationsOf(server, fleet.tokens.customer, `fault:${fault.id}`);
  t.same(
    asCustomer.flatMap((entry) => entry.deliveries.map((delivery: any) => delivery.target)),
    ['customer-acme'],
    'a customer sees only the deliveries to its own users',
  );
  t.equal((await server.call('DELETE', `/api/v1/webhooks/${hook.id}`, fleet.tokens.support)).status, 204);
  t.equal((await server.call('DELETE', `/api/v1/webhooks/${hook.id}`, fleet.tokens.support)).status, 404);
});

t.test('a receiver that fails or redirects is retried with backoff; every attempt is listed', async (t) => {
  const { server, fleet, must, tick, advance } = await setUp(t, '2026-12-01T10:00:00Z');
  const answers = [500, 302, 200];
  const receiver = await startReceiver(t, secret, (_request, count) => answers[count - 1] ?? 200);
  await must('POST', '/api/v1/webhooks', fleet.tokens.support, { url: receiver.url, events: ['fault.reported'], secret });
  const fault = await must('POST', '/api/v1/faults', fleet.tokens.support, { customer: 'acme', class: 'C', title: 'Slow dashboard' });
  t.match(fault.clock, { serviceHours: true, acknowledge: { dueAt: '2026-12-01T10:45:00.000Z' } });
  t.match(await tick(), { attempted: 5, delivered: 4 }, 'the webhook fails; the mails to the staff and the customer go');
  t.match(await tick(), { attempted: 0 }, 'not again before the backoff');
  advance(31_000);
  t.match(await tick(), { attempted: 1, delivered: 0 }, 'the second attempt is redirected, and the redirect not followed');
  advance(59_000);
  t.match(await tick(), { attempted: 0 }, 'the backoff doubled');
  advance(2_000);
  t.match(await tick(), { attempted: 1, delivered: 1 });
  t.equal(receiver.received.length, 3);
  t.equal(new Set(receiver.received.map((entry) => entry.delivery)).size, 1, 'every retry carries the same delivery id');
  const [listed] = await notificationsOf(server, fleet.tokens.support, `fault:${fault.id}`);
  const webhook = listed.deliveries.find((delivery: any) => delivery.channel === 'webhook');
  t.match(webhook, { status: 'delivered', attempts: 3 });
  t.same(
    webhook.attemptLog.map((attempt: any) => [attempt.ok, attempt.statusCode]),
    [
      [false, 500],
      [false, 302],
      [true, 200],
    ],
  );
  t.match(webhook.attemptLog[1].error, /redirects are not followed/);
});

t.test(
  "window reminders 24 h and 1 h before, in each recipient's zone and language, to the named maintenance staff too, with the .ics attached; C clocks stop at the end of the service day",
  async (t) => {
    const { server, fleet, mailbox, must, tick, advance, now } = await setUp(t, '2026-12-01T16:40:00Z');
    const fault = await must('POST', '/api/v1/faults', fleet.tokens.support, { customer: 'acme', class: 'C', title: 'Late in the day' });
    t.equal(fault.due.acknowledgeBy, '2026-12-02T08:25:00.000Z', 'C reported at 16:40: 20 minutes today, 25 tomorrow');
    await fleet.addDevice('emu-1');
    const artifact = randomBytes(512);
    const release = (
      await uploadRelease(
        server,
        fleet.tokens.release,
        signedManifest(artifact, { product: 'emu', version: '2.0.0' }, [server.keys.release]),
        artifact,
      )
    ).json;
    // 3 Dec, 16:00 in Madrid is 15:00 UTC.
    const plan = await must('POST', '/api/v1/plans', fleet.tokens.support, {
      customer: 'acme',
      release: release.id,
      windows: [{ start: '2026-12-03T16:00', end: '2026-12-03T18:00', timezone: 'Europe/Madrid' }],
    });
    await must('POST', `/api/v1/plans/${plan.id}/propose`, fleet.tokens.support);
    advance(1000);
    const confirm = (email: string) => ({ window: 0, maintainer: { name: 'Ana', phone: '600', email } });
    t.equal(
      (await server.call('POST', `/api/v1/plans/${plan.id}/confirm`, fleet.tokens.customer, confirm('ana at acme'))).status,
      400,
      "the maintenance staff's e-mail is checked",
    );
    // The customer confirms on the portal, naming the maintenance staff and their address.
    const portal = await portalOf(server, 'customer-acme');
    const form = { window: '0', maintainerName: 'Ana', maintainerPhone: '600' };
    t.match(await portal.get(`/portal/plans/${plan.id}`), /name="maintainerEmail"/, 'the confirm form asks for the e-mail');
    const refusedForm = await portal.post(`/portal/plans/${plan.id}/confirm`, { ...form, maintainerEmail: 'ana at acme' });
    t.equal(refusedForm.statusCode, 422);
    t.match(refusedForm.body, /e-mail is not an address/);
    t.equal((await portal.post(`/portal/plans/${plan.id}/confirm`, { ...form, maintainerEmail: 'ana@acme.test' })).statusCode, 303);
    t.match(await must('GET', `/api/v1/plans/${plan.id}`, fleet.tokens.support), {
      confirmation: { maintainer: { name: 'Ana', phone: '600', email: 'ana@acme.test' } },
    });
    // The desk reads its dates in Spanish; a locale Intl cannot write is refused.
    t.equal(
      (
        await server.call('PUT', '/api/v1/notifications/contacts/support-acme', server.adminToken, {
          email: 'desk@vendor.test',
          locale: 'xx-YY',
        })
      ).json?.error?.code,
      'invalid_locale',
    );
    t.match(
      await must('PUT', '/api/v1/notifications/contacts/support-acme', server.adminToken, {
        email: 'desk@vendor.test',
        timezone: 'Europe/Madrid',
        locale: 'es-es',
      }),
      { locale: 'es-ES' },
      'stored in its canonical form',
    );
    await tick();
    t.match(
      mailbox
        .to('ops@acme.test')
        .map((mail) => mail.subject)
        .join('\n'),
      /Upgrade plan proposed: your answer is awaited/,
      'the customer is asked for an answer',
    );
    advance(60 * minute);
    t.match(await tick(), { timed: 0 }, 'no warning overnight: the C clock stands still after 17:00');
    t.equal(
      (await must('GET', `/api/v1/faults/${fault.id}`, fleet.tokens.support)).clock.acknowledge.countedSeconds,
      20 * 60,
      'it counted 20 minutes',
    );

    advance(new Date('2026-12-02T15:00:00Z').getTime() - now().getTime());
    t.match(await tick(), { timed: 2 }, "24 h before the window, and the fault's breach meanwhile");
    const reminders = () => mailbox.mails.filter((mail) => /Maintenance window starts/.test(mail.subject ?? ''));
    const customerReminder = reminders().find((mail) => [mail.to].flat().some((entry) => entry?.text.includes('ops@acme.test')))!;
    t.ok(customerReminder, 'the customer gets the reminder');
    t.match(customerReminder.subject, /Thu 3 Dec 2026, 16:00/, "in the customer's zone (Madrid)");
    const calendar = customerReminder.attachments.find((attachment) => attachment.contentType.startsWith('text/calendar'));
    t.ok(calendar, "the plan's .ics is attached");
    t.match(calendar!.content.toString(), /BEGIN:VEVENT[\s\S]*DTSTART/);
    const deskReminder = reminders().find((mail) => [mail.to].flat().some((entry) => entry?.text.includes('desk@vendor.test')));
    t.match(deskReminder?.subject, /jue 3 dic 2026, 16:00/, "support gets it too, in the desk's language of dates");
    const staffReminder = mailbox.to('ana@acme.test');
    t.equal(staffReminder.length, 1, 'the named maintenance staff get the reminder');
    t.match(staffReminder[0].subject, /Thu 3 Dec 2026, 16:00 CET \(in 24 h\)/, "in the customer's zone");
    t.ok(
      staffReminder[0].attachments.some((attachment) => attachment.contentType.startsWith('text/calendar')),
      'with the .ics',
    );
    const count = reminders().length;
    advance(22 * 60 * minute + 30 * minute);
    await tick();
    t.equal(reminders().length, count, 'nothing between the reminders');
    advance(31 * minute);
    await tick();
    t.ok(reminders().length > count, 'the 1 h reminder');
    t.match(reminders().at(-1)!.subject, /in 1 h/);
    t.match(
      mailbox.to('ana@acme.test').map((mail) => mail.subject),
      [/in 24 h/, /in 1 h/],
      'the maintenance staff get both',
    );
    const listed = await notificationsOf(server, fleet.tokens.customer, `plan:${plan.id}`);
    t.same(
      listed.map((entry) => entry.event),
      ['window.reminder', 'window.reminder', 'plan.confirmed', 'plan.proposed'],
      "the plan's notifications, newest first",
    );
    t.same(
      listed[0].deliveries.map((delivery: any) => `${delivery.target} ${delivery.address} ${delivery.timezone} ${delivery.status}`),
      ['customer-acme ops@acme.test Europe/Madrid delivered', 'maintainer ana@acme.test Europe/Madrid delivered'],
      'the customer sees the deliveries to its own people, the maintenance staff among them',
    );
    advance(minute);
    await must('POST', `/api/v1/releases/${release.id}/yank`, fleet.tokens.release, { reason: 'bricks the meter' });
    t.same(
      (await notificationsOf(server, fleet.tokens.support, `release:${release.id}`)).map((entry) => entry.event),
      ['release.yanked'],
      'a yank is heard of',
    );
    t.equal((await notificationsOf(server, fleet.tokens.customer, `release:${release.id}`)).length, 0, 'by staff only');
    t.equal((await notificationsOf(server, fleet.tokens.support, `plan:${plan.id}`))[0].event, 'plan.paused', 'and the plan it paused');
  },
);

t.test(
  "a clock pauses while support waits on the customer's consent; consent requests and expiries are heard; bad contacts are refused",
  async (t) => {
    const { server, fleet, mailbox, must, tick, advance } = await setUp(t, '2026-12-01T10:00:00Z');
    const admin = server.adminToken;
    t.equal(
      (await server.call('PUT', '/api/v1/notifications/contacts/nobody', admin, { email: 'x@example.com' })).status,
      404,
      'an unknown user',
    );
    t.equal(
      (await server.call('PUT', '/api/v1/notifications/contacts/oncall', admin, { email: 'x@example.com', timezone: 'Mars/Base' })).json
        ?.error?.code,
      'invalid_timezone',
    );
    t.equal(
      (await server.call('PUT', '/api/v1/notifications/contacts/customer-acme', admin, { email: 'ops@acme.test', onCall: true })).json
        ?.error?.code,
      'validation_failed',
      'customers are not on call',
    );
    t.equal((await server.call('PUT', '/api/v1/notifications/contacts/oncall', admin, { email: 'not an address' })).status, 400);
    t.equal(
      (await server.call('PUT', '/api/v1/notifications/contacts/oncall', fleet.tokens.support, { email: 'x@example.com' })).status,
      403,
      'admins set contacts',
    );
    t.equal(
      (await must('GET', '/api/v1/notifications/contacts', fleet.tokens.support)).find((contact: any) => contact.username === 'oncall')
        .email,
      'oncall@vendor.test',
      'refused changes left nothing behind',
    );

    await fleet.addDevice('emu-7');
    const fault = await must('POST', '/api/v1/faults', fleet.tokens.customer, {
      class: 'B',
      severity: 'major',
      title: 'Readings drift',
      device: 'emu-7',
    });
    advance(10 * minute);
    const session = await must('POST', '/api/v1/support-sessions', fleet.tokens.support, {
      device: 'emu-7',
      reason: 'Need the logs',
      collect: ['logs'],
    });
    advance(40 * minute);
    const waiting = await must('GET', `/api/v1/faults/${fault.id}`, fleet.tokens.support);
    t.match(
      waiting.clock,
      { paused: true, pausedSeconds: 40 * 60, acknowledge: { countedSeconds: 10 * 60, breached: false } },
      'waiting on consent: the 30 min clock stands at 10',
    );
    t.match(await tick(), { timed: 0 }, 'no warning while paused');
    await must('POST', `/api/v1/support-sessions/${session.id}/consent`, fleet.tokens.customer, { hours: 1 });
    const running = await must('GET', `/api/v1/faults/${fault.id}`, fleet.tokens.support);
    t.match(running.clock, { paused: false, pausedSeconds: 40 * 60 });
    t.equal(running.due.acknowledgeBy, '2026-12-01T11:10:00.000Z', '30 minutes plus the 40 spent waiting');
    const requested = await notificationsOf(server, fleet.tokens.support, `support-session:${session.id}`);
    t.same(
      requested.map((entry) => entry.event),
      ['support.consent_requested'],
    );
    t.ok(
      mailbox.to('ops@acme.test').some((mail) => /Remote support requested for device emu-7/.test(mail.subject ?? '')),
      'the customer was asked by mail',
    );
    advance(61 * minute);
    await tick();
    await tick();
    const expired = await notificationsOf(server, fleet.tokens.support, `support-session:${session.id}`);
    t.same(
      expired.map((entry) => entry.event).sort(),
      ['support.consent_expired', 'support.consent_requested'],
      'the lapsed consent is heard of, once',
    );
    const report = await must('GET', '/api/v1/sla/report', fleet.tokens.support);
    t.same(report.serviceHoursClasses, ['C', 'D']);
    t.same(report.classes.B.breaches, [{ id: fault.id, acknowledge: true, resolve: true }], 'the SLA report counts the paused clock too');
  },
);

t.test('a relay that accepts the connection and never greets is given up on after the timeout, and retried', async (t) => {
  // A TCP peer that says nothing: without the timeouts reaching nodemailer, each attempt hung for 30 s.
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    sockets.forEach((socket) => socket.destroy());
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const relay = `smtp://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const { server, fleet, must, tick } = await setUp(t, '2026-12-01T10:00:00Z', relay);
  const fault = await must('POST', '/api/v1/faults', fleet.tokens.customer, { class: 'A', severity: 'major', title: 'Meter offline' });
  const bound = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 15_000).unref());
  const report = await Promise.race([tick(), bound]);
  t.not(report, 'hung', 'the worker was not held by the silent relay beyond its 2 s timeout');
  t.match(report, { attempted: 2, delivered: 0 }, 'on-call and the customer, both failed');
  const [listed] = await notificationsOf(server, fleet.tokens.support, `fault:${fault.id}`);
  t.ok(
    listed.deliveries.every((delivery: any) => delivery.status === 'pending' && /greeting|timeout/i.test(delivery.attemptLog[0].error)),
    'each attempt says why it failed, and will be retried',
  );
  t.match(relayOptions('smtps://desk%40vendor.test:p%3Ass@mail.vendor.test', 2000), {
    host: 'mail.vendor.test',
    port: 465,
    secure: true,
    auth: { user: 'desk@vendor.test', pass: 'p:ss' },
    greetingTimeout: 2000,
  });
  t.match(relayOptions('smtp://[::1]:2525', 2000), { host: '::1', port: 2525, secure: false });
});
