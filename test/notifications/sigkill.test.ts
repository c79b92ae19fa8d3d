// Exactly once through crashes and across processes, with real `sluice server` processes:
// the server is SIGKILLed while a webhook delivery is in flight (the receiver holds the
// request), started again on the same data, and the event is delivered once: the same
// delivery id, one accepted delivery, no further attempts. Two processes on one database
// deliver every event once between them.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLiveServer, apiClient, adminTokenOf, openLiveStore } from '../helpers/live-server.js';
import { waitFor } from '../helpers/agent.js';
import { runSluice } from '../helpers/processes.js';
import { startReceiver } from './peers.js';

const secret = 'a-webhook-secret-of-some-length';
// A lease of 1 s and claims of 2 s (the attempt times out after 1 s): a dead process's work is
// taken over in seconds instead of the default 10, and what is proven stays the same.
const timings = ['--notification-lease', '1', '--notification-claim', '2'];

async function seed(dataDir: string, url: string) {
  const api = apiClient(url);
  const admin = adminTokenOf(dataDir);
  await api.must('POST', '/api/v1/customers', admin, { id: 'acme', name: 'Acme', timezone: 'Europe/Madrid' });
  const support = (await api.must('POST', '/api/v1/users', admin, { username: 'sam', role: 'support' })).token as string;
  return { api, support };
}

t.test('SIGKILL during a delivery, restart: delivered exactly once', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-notify-kill-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  // The first attempt is never answered: the server dies with it in flight.
  const receiver = await startReceiver(t, secret, (_request, count) => (count === 1 ? 'hold' : 200));
  const first = await startLiveServer(t, dataDir, { extra: timings });
  const { api, support } = await seed(dataDir, first.url);
  await api.must('POST', '/api/v1/webhooks', support, { url: receiver.url, events: ['fault.reported'], secret });
  const fault = await api.must('POST', '/api/v1/faults', support, {
    customer: 'acme',
    class: 'A',
    severity: 'major',
    title: 'Substation offline',
  });
  await waitFor(() => receiver.received.length === 1, 'the first attempt arrives', 20_000);
  await first.kill();

  const second = await startLiveServer(t, dataDir, { extra: timings });
  // The dead process's lease and its claim on the attempt lapse (2 s); then the retry.
  await waitFor(() => receiver.accepted.size === 1, 'the retry is accepted', 20_000);
  const [delivery] = receiver.accepted.keys();
  t.equal(receiver.accepted.get(delivery), 1, 'accepted once');
  t.ok(
    receiver.received.every((entry) => entry.delivery === delivery && entry.event === 'fault.reported' && entry.signatureValid),
    'both attempts carry the same delivery id, signed',
  );
  t.equal(receiver.received[0].body.data.fault, fault.id);
  // A few more ticks of the worker: nothing more arrives.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  t.equal(receiver.received.length, 2, 'no attempt after the delivery');
  const listed = (await apiClient(second.url).must('GET', `/api/v1/notifications?subject=fault:${fault.id}`, support)) as any[];
  t.equal(listed.length, 1, 'one event');
  t.match(listed[0].deliveries, [{ id: delivery, status: 'delivered', attempts: 2 }], 'claimed twice, delivered once');
  t.same(
    listed[0].deliveries[0].attemptLog.map((attempt: any) => attempt.ok),
    [true],
    'the killed attempt left no record; the retry did',
  );
  await second.stop();
});

t.test('two processes on one database deliver every event once', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-notify-two-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const receiver = await startReceiver(t, secret);
  // The flags of docs/cli.md: a relay nobody has a contact for, and service hours round the clock.
  const extra = [
    ...timings,
    ...['--smtp', 'smtp://127.0.0.1:9', '--mail-from', 'sluice@vendor.test', '--service-hours', 'Mon-Sun 00:00-24:00 UTC'],
  ];
  const servers = [await startLiveServer(t, dataDir, { extra })];
  servers.push(await startLiveServer(t, dataDir, { extra }));
  const { api, support } = await seed(dataDir, servers[0].url);
  await api.must('POST', '/api/v1/webhooks', support, { url: receiver.url, events: ['fault.reported'], secret });
  const faults = 6;
  for (let index = 0; index < faults; index++) {
    await apiClient(servers[index % 2].url).must('POST', '/api/v1/faults', support, {
      customer: 'acme',
      class: 'B',
      title: `fault ${index}`,
    });
  }
  const night = await apiClient(servers[1].url).must('POST', '/api/v1/faults', support, {
    customer: 'acme',
    class: 'C',
    title: 'counted round the clock',
  });
  t.equal(
    new Date(night.due.acknowledgeBy).getTime() - new Date(night.reportedAt).getTime(),
    45 * 60_000,
    '--service-hours: C counts 45 minutes straight',
  );
  t.equal(night.clock.serviceHours, true);
  await waitFor(() => receiver.accepted.size === faults + 1, 'every event delivered', 30_000);
  await new Promise((resolve) => setTimeout(resolve, 2500));
  t.equal(receiver.received.length, faults + 1, 'no event twice');
  t.ok([...receiver.accepted.values()].every((count) => count === 1));
  const store = await openLiveStore(t, dataDir);
  t.equal((await store.notifications.list({ event: 'fault.reported' })).length, faults + 1, 'one stored event per fault');
  // No graceful stop needed: the teardown kills both (a SIGTERM round costs seconds on a busy machine).
  const refused = await runSluice(['server', '--data-dir', dataDir, '--smtp', 'ftp://mail.example.com', '--port', '0']);
  t.not(refused.code, 0);
  t.match(refused.stderr, /--smtp must be smtp:\/\/host:port/, 'a bad relay URL is refused by name');
});
