// A confirmed plan's iCalendar file (issue 15, "Records that match the devices"), read back
// with ical.js (Mozilla's RFC 5545 parser and recurrence expander): a recurring window is an
// RRULE whose expansion is sluice's own occurrences, DST gap included; a cancelled plan is
// STATUS:CANCELLED; every change raises SEQUENCE, the same on two servers of one database;
// every line ends with CRLF; the event links to the plan's portal page.
import t from 'tap';
import ICAL from 'ical.js';
import { randomBytes } from 'node:crypto';
import { startTestServer, seedFleet, signedManifest, uploadRelease } from '../helpers/server.js';
import { renderCalendar } from '../../server/services/plan-calendar.js';
import { currentOrNextOccurrence, occurrencesBetween, type MaintenanceWindow } from '../../server/domain/windows.js';
import type { Plan } from '../../server/storage/repositories/records.js';

/** The one VEVENT, its properties, and every start its recurrence gives (UTC ISO), as a calendar client reads them. */
function readCalendar(text: string) {
  const root = new ICAL.Component(ICAL.parse(text));
  for (const zone of root.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(zone);
  const events = root.getAllSubcomponents('vevent');
  const component = events[0];
  const event = new ICAL.Event(component);
  const starts: string[] = [];
  const iterator = event.iterator();
  for (let next = iterator.next(); next && starts.length < 500; next = iterator.next()) starts.push(next.toJSDate().toISOString());
  const value = (name: string) => component.getFirstPropertyValue(name)?.toString() ?? null;
  return { events: events.length, starts, durationSeconds: event.duration.toSeconds(), sequence: event.sequence, value };
}

const sluiceStarts = (window: MaintenanceWindow, confirmedAt: Date, until: Date) =>
  occurrencesBetween(window, currentOrNextOccurrence(window, confirmedAt)!.start, until, 500).map((occurrence) =>
    occurrence.start.toISOString(),
  );

t.test(
  "a recurring window is an RRULE whose expansion is sluice's occurrences; CRLF throughout; the event links to the plan's page",
  async (t) => {
    let now = new Date('2027-03-01T09:00:00Z');
    const server = await startTestServer(t, { now: () => now, publicUrl: 'https://updates.example.com' });
    const fleet = await seedFleet(server);
    await fleet.addDevice('emu-1');
    const artifact = randomBytes(1024);
    const release = (
      await uploadRelease(
        server,
        fleet.tokens.release,
        signedManifest(artifact, { product: 'emu', version: '2.0.0' }, [server.keys.release]),
        artifact,
      )
    ).json;
    // Sundays at 02:30 in Madrid: on 28 March 2027 that wall time does not exist.
    const window = { cron: '30 2 * * 0', duration: 'PT2H', timezone: 'Europe/Madrid' };
    const deadline = '2027-04-15T00:00:00.000Z';
    const plan = (
      await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
        customer: 'acme',
        release: release.id,
        windows: [window],
        deadline,
      })
    ).json;
    await server.call('POST', `/api/v1/plans/${plan.id}/propose`, fleet.tokens.support);
    t.equal(
      (
        await server.call('POST', `/api/v1/plans/${plan.id}/confirm`, fleet.tokens.customer, {
          window: 0,
          maintainer: { name: 'Ana', phone: '600' },
        })
      ).status,
      200,
    );
    const confirmedAt = now;
    now = new Date('2027-03-10T12:00:00Z');

    const reply = await server.call('GET', `/api/v1/plans/${plan.id}/calendar.ics`, fleet.tokens.customer);
    t.equal(reply.status, 200);
    t.match(reply.headers['content-type'], /^text\/calendar/);
    const text = reply.body;
    t.ok(text.endsWith('END:VCALENDAR\r\n'), 'the file ends with CRLF');
    t.notOk(/[^\r]\n/.test(text), 'every line ends with CRLF, never a bare LF');
    t.ok(
      text.split('\r\n').every((line) => Buffer.byteLength(line) <= 75),
      'lines are folded at 75 octets',
    );

    const calendar = readCalendar(text);
    t.equal(calendar.events, 1, 'one event for the plan');
    t.match(calendar.value('rrule'), /FREQ=WEEKLY;.*BYDAY=SU.*BYHOUR=2.*BYMINUTE=30/, 'an RRULE, not only the next occurrence');
    t.same(
      calendar.starts,
      sluiceStarts(window, confirmedAt, new Date(deadline)),
      'a calendar shows every occurrence sluice installs in, until the deadline',
    );
    t.ok(
      calendar.starts.includes('2027-03-28T01:00:00.000Z'),
      "the night the clocks jump: 03:00 local, DESIGN.md's rule (RFC 5545 alone would say 03:30)",
    );
    t.equal(calendar.starts.length, 6);
    t.equal(calendar.durationSeconds, 2 * 3600);
    t.equal(
      calendar.value('url'),
      `https://updates.example.com/portal/plans/${plan.id}`,
      "the event links to the plan's page, on the public URL",
    );
    t.match(calendar.value('description'), `https://updates.example.com/portal/plans/${plan.id}`);
    t.equal(calendar.value('status'), 'CONFIRMED');
    t.match(text, /\r\nDTSTAMP:\d{8}T\d{6}Z\r\n/, 'DTSTAMP in UTC');
    t.match(text, /\r\nDTSTART;TZID=Europe\/Madrid:20270307T023000\r\n/, "local time in the customer's zone");
    t.match(text, /BEGIN:VTIMEZONE\r\nTZID:Europe\/Madrid\r\n/, 'with the zone the TZID names');
  },
);

t.test('a cron with no RRULE form lists its occurrences; one-off and emergency windows keep their one occurrence', async (t) => {
  const base = {
    id: 'plan-1',
    kind: 'upgrade',
    customer: 'acme',
    release: 'r',
    status: 'confirmed',
    pausedFrom: null,
    waves: [],
    seed: 's',
    notes: '',
    details: null,
    maxConcurrent: null,
    expectedInstallSeconds: 900,
    confirmedWindow: 0,
    confirmedBy: 'user:c',
    maintainer: { name: 'Ana', phone: '600' },
    counterComment: null,
    documentVersion: 1,
    overdueReason: null,
    createdBy: 'user:s',
    confirmedAt: new Date('2027-03-01T09:00:00Z'),
    createdAt: new Date('2027-03-01T08:00:00Z'),
    updatedAt: new Date('2027-03-01T09:00:00Z'),
    deadline: new Date('2027-05-01T00:00:00Z'),
  } satisfies Omit<Plan, 'windows'>;
  const render = (windows: MaintenanceWindow[], changes: Partial<Plan> = {}) =>
    readCalendar(
      renderCalendar({ plan: { ...base, windows, ...changes }, customerName: 'Acme', sequence: 2, url: 'https://x/portal/plans/plan-1' }),
    );

  // The 1st of the month or any Sunday: cron takes either, an RRULE would need both.
  const either = { cron: '0 2 1 * 0', duration: 'PT3H', timezone: 'Europe/Madrid' };
  const listed = render([either]);
  t.equal(listed.value('rrule'), null, 'no RRULE');
  t.same(listed.starts, sluiceStarts(either, base.confirmedAt, base.deadline), 'every occurrence, listed');
  t.ok(
    listed.starts.includes('2027-04-01T00:00:00.000Z') && listed.starts.includes('2027-04-04T00:00:00.000Z'),
    'the 1st (a Thursday) and the Sundays',
  );

  // Lord Howe moves its clocks by 30 minutes: 02:15 on 3 October 2027 does not exist.
  const lordHowe = { cron: '15 2 * * *', duration: 'PT10M', timezone: 'Australia/Lord_Howe' };
  const spring = {
    confirmedAt: new Date('2027-09-28T00:00:00Z'),
    updatedAt: new Date('2027-09-28T00:00:00Z'),
    deadline: new Date('2027-10-08T00:00:00Z'),
  };
  t.same(render([lordHowe], spring).starts, sluiceStarts(lordHowe, spring.confirmedAt, spring.deadline), 'a half-hour gap too');

  const oneOff = render([{ start: '2027-03-07T02:00', end: '2027-03-07T05:00', timezone: 'Europe/Madrid' }]);
  t.same(oneOff.starts, ['2027-03-07T01:00:00.000Z']);
  t.equal(oneOff.durationSeconds, 3 * 3600);
  const emergency = render([{ asap: true }]);
  t.same(emergency.starts, [base.confirmedAt.toISOString()], 'an emergency window starts when the customer consented');
  t.equal(
    emergency.durationSeconds,
    (base.deadline.getTime() - base.confirmedAt.getTime()) / 1000,
    'and ends, in a calendar, at the deadline',
  );
  const completed = render([{ cron: '0 2 * * *', duration: 'PT1H', timezone: 'Europe/Madrid' }], {
    status: 'completed',
    updatedAt: new Date('2027-03-05T03:00:00Z'),
  });
  t.equal(completed.starts.at(-1), '2027-03-05T01:00:00.000Z', "a completed rollout's windows stop at its completion");
});

t.test('every change raises SEQUENCE, counted from stored state; a cancelled plan is STATUS:CANCELLED', async (t) => {
  let now = new Date('2027-03-01T09:00:00Z');
  const server = await startTestServer(t, { now: () => now });
  const fleet = await seedFleet(server);
  await fleet.addDevice('emu-1');
  const artifact = randomBytes(1024);
  const release = (
    await uploadRelease(
      server,
      fleet.tokens.release,
      signedManifest(artifact, { product: 'emu', version: '2.0.0' }, [server.keys.release]),
      artifact,
    )
  ).json;
  const plan = (
    await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
      customer: 'acme',
      release: release.id,
      windows: [{ cron: '0 2 * * 0', duration: 'PT3H', timezone: 'Europe/Madrid' }],
      deadline: '2027-04-15T00:00:00Z',
    })
  ).json;
  await server.call('POST', `/api/v1/plans/${plan.id}/propose`, fleet.tokens.support);
  await server.call('POST', `/api/v1/plans/${plan.id}/confirm`, fleet.tokens.customer, {
    window: 0,
    maintainer: { name: 'Ana', phone: '600' },
  });
  const fetch = async (app = server) => (await app.call('GET', `/api/v1/plans/${plan.id}/calendar.ics`, fleet.tokens.support)).body;

  const confirmed = await fetch();
  now = new Date('2027-03-02T09:00:00Z');
  t.equal(await fetch(), confirmed, 'the same file until the plan changes, whenever it is asked for');
  // A second server on the same database (as behind a load balancer) serves the same file.
  const other = await startTestServer(t, { now: () => now, dataDir: server.dataDir, databaseUrl: server.databaseUrl });
  t.equal(await fetch(other), confirmed, 'and so does another server process');

  const sequences = [readCalendar(confirmed).sequence];
  const statuses = [readCalendar(confirmed).value('status')];
  for (const step of ['pause', 'resume', 'cancel'] as const) {
    now = new Date(now.getTime() + 3600_000);
    t.equal((await server.call('POST', `/api/v1/plans/${plan.id}/${step}`, fleet.tokens.support, { reason: 'test' })).status, 200, step);
    const calendar = readCalendar(await fetch(other));
    sequences.push(calendar.sequence);
    statuses.push(calendar.value('status'));
  }
  t.ok(
    sequences.every((sequence, index) => index === 0 || sequence > sequences[index - 1]),
    `SEQUENCE rises with every change: ${sequences.join(', ')}`,
  );
  t.same(statuses, ['CONFIRMED', 'TENTATIVE', 'CONFIRMED', 'CANCELLED'], 'paused is tentative, cancelled is CANCELLED');
  const cancelled = await fetch();
  t.equal(readCalendar(cancelled).value('uid'), readCalendar(confirmed).value('uid'), 'the same event, so calendars replace it');
  t.match(readCalendar(cancelled).value('description'), /^Cancelled/);
});
