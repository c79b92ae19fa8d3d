// The durable outbox (DESIGN.md, "Device agent": reports made while offline are kept and sent
// later), against a real socket: it survives restarts, sends in order, removes a report only
// after a 2xx, and a resend keeps its eventId so the server records it once.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox, eventIdFor, type Report } from '../../client/outbox.js';
import { sendReport, type ProtocolOptions } from '../../client/protocol.js';
import { startFakeServer, throwAwayTrust } from './helpers/fake-server.js';

async function setup(t: Test) {
  const server = await startFakeServer({ keys: throwAwayTrust().keys });
  t.teardown(server.close);
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-outbox-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const protocol: ProtocolOptions = { server: server.url, deviceId: 'emu-0001', token: 'device-token', now: () => new Date() };
  return { server, dataDir, send: (report: Report) => sendReport(protocol, report) };
}

const reports = ['downloading', 'downloaded', 'verified', 'staged'].map((state, index): Report => ({
  eventId: eventIdFor('run-1', state, 1),
  assignment: 'a1',
  state,
  detail: null,
  at: new Date(Date.UTC(2026, 11, 6, 0, index)).toISOString(),
}));

t.test('event ids: UUID-shaped, the same for the same run, state and attempt, different otherwise', async (t) => {
  const id = eventIdFor('run-1', 'staged', 1);
  t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.equal(eventIdFor('run-1', 'staged', 1), id);
  t.not(eventIdFor('run-1', 'staged', 2), id);
  t.not(eventIdFor('run-2', 'staged', 1), id);
  t.equal(new Set(reports.map((report) => report.eventId)).size, reports.length);
});

t.test('reports survive a restart and are sent in order, once', async (t) => {
  const { server, dataDir, send } = await setup(t);
  const first = new Outbox(dataDir);
  for (const report of reports.slice(0, 2)) first.enqueue(report);
  const second = new Outbox(dataDir); // the agent restarted
  for (const report of reports.slice(2)) second.enqueue(report);
  t.same(second.pending(), reports, 'everything kept, in order, across the restart');
  t.same(await second.flush(send), { sent: 4, left: 0 });
  t.same(
    server.seen.events.map((event) => event.eventId),
    reports.map((report) => report.eventId),
    'sent in order',
  );
  t.same(server.seen.events, reports, 'each report sent as it was made (its own time, not the send time)');
  t.same(new Outbox(dataDir).pending(), [], 'nothing left after 2xx');
  t.same(await second.flush(send), { sent: 0, left: 0 });
  t.equal(server.seen.events.length, 4, 'not sent again');
});

t.test('while the server is unreachable or failing nothing is removed; later the same eventIds arrive', async (t) => {
  const { server, dataDir, send } = await setup(t);
  const outbox = new Outbox(dataDir);
  for (const report of reports) outbox.enqueue(report);
  server.script.unreachable = true;
  t.same(await outbox.flush(send), { sent: 0, left: 4 }, 'unreachable: all kept');
  server.script.unreachable = false;
  server.script.eventStatus = 503;
  t.same(await outbox.flush(send), { sent: 0, left: 4 }, '503: all kept');
  t.equal(server.seen.events.length, 1, 'it stops at the first report that must be retried (order)');
  server.script.eventStatus = 204;
  t.same(await outbox.flush(send), { sent: 4, left: 0 });
  t.same(
    server.seen.events.map((event) => event.eventId),
    [reports[0].eventId, ...reports.map((report) => report.eventId)],
    'the resend kept its eventId',
  );
  t.same(
    server.seen.recorded.map((event) => event.state),
    reports.map((report) => report.state),
    'recorded once each, in order',
  );
});

t.test('a report delivered but not yet removed (crash after the 204) is sent again under the same id', async (t) => {
  const { server, dataDir, send } = await setup(t);
  const outbox = new Outbox(dataDir);
  outbox.enqueue(reports[0]);
  // Delivered, then the device dies before removing it: as seen from the outbox, a failure.
  await outbox.flush(async (report) => {
    await send(report);
    throw new Error('power lost');
  });
  t.equal(new Outbox(dataDir).pending().length, 1, 'still there after the "crash"');
  await new Outbox(dataDir).flush(send);
  t.equal(server.seen.events.length, 2, 'sent twice');
  t.equal(server.seen.recorded.length, 1, 'recorded once: same eventId');
});

t.test('a report the server refuses for good (4xx) does not block the ones after it', async (t) => {
  const { server, dataDir, send } = await setup(t);
  const outbox = new Outbox(dataDir);
  for (const report of reports.slice(0, 2)) outbox.enqueue(report);
  server.script.eventStatus = 422;
  t.same(await outbox.flush(send), { sent: 2, left: 0 });
  server.script.eventStatus = 401; // a token problem is not the report's fault: keep it
  outbox.enqueue(reports[2]);
  t.same(await outbox.flush(send), { sent: 0, left: 1 });
});
