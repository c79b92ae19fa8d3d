// The whole plan story through the HTTP API (issue: plans, "Done means"): publish, draft,
// propose, the customer counters, the vendor proposes again, the customer confirms with
// maintenance staff, and the assignment says "wait" before the window and "install" inside
// it, in the customer's local time.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { startTestServer, seedFleet, signedManifest, uploadRelease } from '../helpers/server.js';

const artifact = randomBytes(4096);

t.test('publish, draft, propose, counter, propose again, confirm, then wait and install in local time', async (t) => {
  // 2026-12-01 09:00 UTC = 10:00 in Madrid.
  let now = new Date('2026-12-01T09:00:00Z');
  const server = await startTestServer(t, { now: () => now });
  const fleet = await seedFleet(server, { timezone: 'Europe/Madrid' });
  const deviceToken = await fleet.addDevice('emu-0001');
  await fleet.addDevice('emu-0002');
  const release = await uploadRelease(
    server,
    fleet.tokens.release,
    signedManifest(artifact, { product: 'emu', version: '2.0.0', fixes: ['F-1'] }, [server.keys.release]),
    artifact,
  );
  t.equal(release.status, 201);

  const draft = await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
    customer: 'acme',
    release: release.json.id,
    notes: 'Fixes the meter drift <b>bug</b>',
    windows: [{ start: '2026-12-05T02:00', end: '2026-12-05T05:00', timezone: 'Europe/Madrid' }],
  });
  t.equal(draft.status, 201, draft.body);
  t.equal(draft.json.status, 'draft');
  t.equal(draft.json.progress.total, 2, "defaults to all the customer's devices of the product");
  t.equal(draft.json.deadline, '2027-01-01T09:00:00.000Z', 'deadline: one month after publication');
  const id = draft.json.id;

  t.equal(
    (
      await server.call('POST', `/api/v1/plans/${id}/confirm`, fleet.tokens.customer, {
        window: 0,
        maintainer: { name: 'Ana', phone: '+34 600 000 000' },
      })
    ).json.error.code,
    'illegal_transition',
    'a draft cannot be confirmed',
  );

  const proposed = await server.call('POST', `/api/v1/plans/${id}/propose`, fleet.tokens.support);
  t.equal(proposed.json.status, 'proposed');
  t.equal(proposed.json.documentVersion, 1);
  const document = await server.call('GET', `/api/v1/plans/${id}/document`, fleet.tokens.customer);
  t.equal(document.status, 200);
  t.match(document.body, /Europe\/Madrid/);
  t.match(document.body, /&lt;b&gt;bug&lt;\/b&gt;/, 'notes are escaped');
  t.notMatch(document.body, /<b>bug<\/b>/);
  t.match(document.body, /F-1/, 'lists the faults fixed');
  t.match(document.body, /emu-0001/);
  t.match(document.body, /maintenance staff/i);
  const markdown = await server.call('GET', `/api/v1/plans/${id}/document?format=md`, fleet.tokens.customer);
  t.match(markdown.body, /^# Upgrade plan/);

  const countered = await server.call('POST', `/api/v1/plans/${id}/counter`, fleet.tokens.customer, {
    windows: [{ start: '2026-12-06T01:00', end: '2026-12-06T04:00', timezone: 'Europe/Madrid' }],
    comment: 'Saturday night is busy; Sunday please',
  });
  t.equal(countered.status, 200, countered.body);
  t.equal(countered.json.status, 'countered');

  const again = await server.call('POST', `/api/v1/plans/${id}/propose`, fleet.tokens.support, {
    windows: [{ start: '2026-12-06T01:00', end: '2026-12-06T04:00', timezone: 'Europe/Madrid' }],
  });
  t.equal(again.json.status, 'proposed');
  t.equal(again.json.documentVersion, 2, 'each proposal freezes a new version');
  t.match((await server.call('GET', `/api/v1/plans/${id}/document?version=1`, fleet.tokens.customer)).body, /2026/);

  const refusedIndex = await server.call('POST', `/api/v1/plans/${id}/confirm`, fleet.tokens.customer, {
    window: 3,
    maintainer: { name: 'Ana', phone: '+34 600 000 000' },
  });
  t.equal(refusedIndex.status, 422);
  t.equal(refusedIndex.json.error.code, 'invalid_window_index');
  t.equal(
    (await server.call('POST', `/api/v1/plans/${id}/confirm`, fleet.tokens.support, { window: 0, maintainer: { name: 'x', phone: '123' } }))
      .status,
    403,
    'support cannot confirm for the customer',
  );

  const confirmed = await server.call('POST', `/api/v1/plans/${id}/confirm`, fleet.tokens.customer, {
    window: 0,
    maintainer: { name: 'Ana García', phone: '+34 600 000 000' },
  });
  t.equal(confirmed.status, 200, confirmed.body);
  t.equal(confirmed.json.status, 'confirmed');
  t.match(confirmed.json.confirmation, { window: 0, maintainer: { name: 'Ana García' } });

  const calendar = await server.call('GET', `/api/v1/plans/${id}/calendar.ics`, fleet.tokens.customer);
  t.equal(calendar.status, 200);
  // 01:00 in Madrid on 6 December is 00:00 UTC.
  t.match(calendar.body, /DTSTART:20261206T000000Z/);
  t.match(calendar.body, /DTEND:20261206T030000Z/);

  const checkin = async () =>
    (await server.call('POST', '/api/v1/device/checkin', deviceToken, { version: '1.0.0', nonce: randomBytes(16).toString('hex') })).json;
  const before = await checkin();
  t.equal(before.signed.assignment.installAllowed, false, 'before the window: download and stage, but wait');
  t.equal(before.signed.assignment.window.start, '2026-12-06T00:00:00.000Z');

  now = new Date('2026-12-06T00:30:00Z'); // 01:30 in Madrid, inside the window
  const inside = await checkin();
  t.equal(inside.signed.assignment.installAllowed, true, 'inside the window: install');

  now = new Date('2026-12-06T02:50:00Z'); // 03:50 in Madrid: 10 minutes left, install needs 15
  t.equal((await checkin()).signed.assignment.installAllowed, false, 'too late for the install to fit');

  const audit = await server.call('GET', `/api/v1/audit?subject=plan:${id}`, fleet.tokens.support);
  const actions = audit.json.map((entry: { action: string }) => entry.action).reverse();
  t.same(
    actions.filter((action: string) => action !== 'plan.calendar'),
    ['plan.create', 'plan.propose', 'plan.counter', 'plan.propose', 'plan.confirm'],
  );
  const confirmation = audit.json.find((entry: { action: string }) => entry.action === 'plan.confirm');
  t.equal(confirmation.actor, 'user:customer-acme', 'who confirmed');
});
