// What reaches the customer (issue 18): the automatic draft's internal note never reaches a
// customer's document, page or plan JSON; the written plan numbers windows from 1, names
// the product and the faults' titles, and shows the offset on an ambiguous fall-back night;
// a commissioning plan reads as commissioning, the README's example among them. And the
// portal's small pure helpers (times, "due in", the windows editor).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { startTestServer, seedFleet, signedManifest, uploadRelease } from '../helpers/server.js';
import { localTime, dueText, span } from '../../server/portal/time.js';
import { windowsFromForm, windowValues } from '../../server/portal/console/windows-editor.js';
import { changedSections } from '../../server/portal/console/plan-history.js';

t.test('the automatic draft keeps its note internal; the written plan reads like a contract', async (t) => {
  const offset = new Date('2026-10-20T09:00:00Z').getTime() - Date.now();
  const server = await startTestServer(t, { now: () => new Date(Date.now() + offset) });
  const fleet = await seedFleet(server, { timezone: 'Europe/Madrid' });
  await fleet.addDevice('emu-0001');
  const fault = (await server.call('POST', '/api/v1/faults', fleet.tokens.customer, { class: 'C', title: 'Meter readings drift' })).json;
  const artifact = randomBytes(512);
  const release = await uploadRelease(
    server,
    fleet.tokens.release,
    signedManifest(artifact, { product: 'emu', version: '2.1.0', fixes: [fault.id] }, [server.keys.release]),
    artifact,
  );
  t.equal(release.status, 201);
  const draft = (await server.call('GET', '/api/v1/plans?customer=acme', fleet.tokens.support)).json[0];
  t.equal(draft.status, 'draft', 'a plan was drafted for the fault');
  // A window on the fall-back night: 02:30 in Madrid happens twice on 25 October 2026.
  const proposed = await server.call('POST', `/api/v1/plans/${draft.id}/propose`, fleet.tokens.support, {
    windows: [{ start: '2026-10-25T02:30', end: '2026-10-25T04:00', timezone: 'Europe/Madrid' }],
  });
  t.equal(proposed.status, 200, proposed.body);
  const markdown = (await server.call('GET', `/api/v1/plans/${draft.id}/document?format=md`, fleet.tokens.customer)).body;
  t.notMatch(markdown, /Agree the window|Drafted automatically/, 'the internal note is not in the written plan');
  t.match(markdown, new RegExp(`${fault.id}: Meter readings drift`), "the fault's title next to its id");
  t.match(markdown, /Energy management unit \(emu\) 2\.1\.0/, "the product's name");
  t.match(markdown, /Window 1: /, 'windows numbered from 1');
  t.notMatch(markdown, /Window 0/);
  t.match(markdown, /next: Sunday 25 October 2026, 02:30 \(Europe\/Madrid, UTC\+02:00\)/, 'the ambiguous time carries its offset');
  const asCustomer = (await server.call('GET', `/api/v1/plans/${draft.id}`, fleet.tokens.customer)).json;
  t.notMatch(JSON.stringify(asCustomer), /Agree the window/, "nor in the plan's JSON a customer reads");
  const stored = await server.app.sluice.store.plans.get(draft.id);
  t.match(stored?.details, { internalNotes: /Agree the window with the customer/ }, 'support still has it');
});

t.test("the README's commissioning example reads as commissioning", async (t) => {
  // test/cli/readme.test.ts runs the README's block as written; here its body, at a fixed
  // time, is checked for what the written plan says.
  const offset = new Date('2026-12-01T09:00:00Z').getTime() - Date.now();
  const server = await startTestServer(t, { now: () => new Date(Date.now() + offset) });
  const fleet = await seedFleet(server, { timezone: 'Europe/Madrid' });
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const example = /\$API\/commissioning -d '(\{[\s\S]*?\})'/.exec(
    readme.replace(/'\$\(date -u -d '\+14 days' \+%F\)'/g, '2027-03-10').replace(/'\$\(date -d '\+14 days' \+%F\)'/g, '2027-03-10'),
  );
  t.ok(example, 'the README has the example');
  const created = await server.call('POST', '/api/v1/commissioning', fleet.tokens.support, JSON.parse(example![1]));
  t.equal(created.status, 201, created.body);
  t.equal((await server.call('POST', `/api/v1/plans/${created.json.id}/propose`, fleet.tokens.support)).status, 200);
  const markdown = (await server.call('GET', `/api/v1/plans/${created.json.id}/document?format=md`, fleet.tokens.customer)).body;
  t.match(markdown, /# Commissioning plan/);
  t.match(markdown, /\| Mode \| On site \|/);
  t.match(markdown, /\| EMU-500 \| 4 \|/, 'equipment as a table');
  t.match(markdown, /\| Marta Ruiz \| \+34 611 111 111 \|/, 'engineers');
  t.match(markdown, /Date \| Wednesday 10 March 2027, 09:00/, "the date in the customer's local time");
  t.notMatch(markdown, /## Devices|Rollback procedure/, 'not an upgrade with an empty device table');
});

t.test('times for people', async (t) => {
  t.equal(localTime('2026-10-25T00:30:00Z', 'Europe/Madrid'), 'Sun 25 Oct 2026, 02:30 (UTC+02:00)', 'first 02:30 of the fall-back night');
  t.equal(localTime('2026-10-25T01:30:00Z', 'Europe/Madrid'), 'Sun 25 Oct 2026, 02:30 (UTC+01:00)', 'the second one');
  t.equal(localTime('2026-12-06T01:00:00Z', 'Europe/Madrid'), 'Sun 6 Dec 2026, 02:00', 'no offset where the time is unique');
  const now = new Date('2026-12-01T10:00:00Z');
  t.same(dueText('2026-12-01T10:12:00Z', now), { text: 'due in 12 min', overdue: false });
  t.same(dueText('2026-12-01T09:57:00Z', now), { text: 'overdue by 3 min', overdue: true });
  t.equal(span(26 * 3600_000 + 60_000), '1 d 2 h');
  t.equal(span(65 * 60_000), '1 h 5 min');
});

t.test('the windows editor round-trips windows and builds cron from days', async (t) => {
  const windows = [
    { start: '2026-12-06T02:00', end: '2026-12-06T05:00', timezone: 'Europe/Madrid' },
    { cron: '30 2 * * 0,6', duration: 'PT3H', timezone: 'Europe/Madrid' },
  ];
  const values = windowValues(windows);
  t.same(values, {
    once_start_0: '2026-12-06T02:00',
    once_end_0: '2026-12-06T05:00',
    every_hours_0: '3',
    every_time_0: '02:30',
    every_days_0: '0\n6',
  });
  const body = { ...values, every_days_0: ['0', '6'] };
  t.same(windowsFromForm(body, values, 'Europe/Madrid'), [
    windows[0],
    { cron: '30 2 * * 0,6', duration: 'PT180M', timezone: 'Europe/Madrid' },
  ]);
  t.same(
    windowsFromForm({}, { every_cron_0: '0 3 1 * *', every_hours_0: '2' }, 'UTC'),
    [{ cron: '0 3 1 * *', duration: 'PT120M', timezone: 'UTC' }],
    'a raw cron for anything else',
  );
  t.same(windowsFromForm({}, {}, 'UTC'), [], 'empty rows are skipped');
  t.same(
    changedSections('# Upgrade plan\n\nx\n\n## Notes\n\na\n\n## Devices\n\nd', '# Upgrade plan\n\ny\n\n## Notes\n\nb\n\n## Devices\n\nd'),
    ['Notes'],
  );
});
