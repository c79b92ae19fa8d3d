// Crash consistency of device events (issue #8): the server killed with SIGKILL in the middle
// of a burst of concurrent event reports. An event is acknowledged (204) only after its
// transaction committed, so every acknowledged event must be in the database the crash left
// (SQLite's file or the PostgreSQL database, with SLUICE_TEST_DATABASE=postgres) and in each
// device's history served by the restarted server. (A device's `last_seen_at` may
// lag behind by design; events may not.)
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import {
  apiClient,
  confirmedLivePlan,
  publishLive,
  readStopped,
  seedLiveFleet,
  soundnessCheck,
  startLiveServer,
  stoppedDatabaseProblems,
} from '../helpers/live-server.js';
import { waitFor } from '../helpers/agent.js';

const dataDir = mkdtempSync(join(tmpdir(), 'sluice-crash-events-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

// The restarted server's device history shows a device's last 100 events: no device is sent
// more, so the comparison through the API is complete.
const devicesInBurst = 80;
const eventsPerDevice = 100;
const connections = 64;

t.test('killed during a burst of device events: every acknowledged event survives', async (t) => {
  let server = await startLiveServer(t, dataDir);
  let api = apiClient(server.url);
  const { tokens, devices } = await seedLiveFleet(api, dataDir, devicesInBurst);
  const release = await publishLive(api, dataDir, tokens.release, '2.0.0', randomBytes(64 * 1024));
  const plan = await confirmedLivePlan(api, tokens, release);

  const pool = new Pool(server.url, { connections });
  t.teardown(async () => {
    if (!pool.destroyed) await pool.destroy();
  });
  const burst = apiClient(server.url, pool);
  const acknowledged = new Map<string, string[]>(devices.map((device) => [device.id, []]));
  let sent = 0;
  let cut = 0;
  let killing = false;
  const refused: string[] = [];
  const sender = async () => {
    for (;;) {
      const index = sent;
      if (index >= devicesInBurst * eventsPerDevice) return;
      sent += 1;
      const device = devices[index % devicesInBurst];
      const eventId = `burst-event-${index}`;
      try {
        const response = await burst.call('POST', '/api/v1/device/events', device.token, {
          assignment: plan,
          state: 'downloading',
          progress: (index % 100) / 100,
          detail: `chunk ${index}`,
          eventId,
        });
        if (response.status === 204) acknowledged.get(device.id)!.push(eventId);
        else refused.push(`${eventId}: ${response.status} ${response.bytes.toString()}`);
      } catch (error) {
        if (!killing) refused.push(`${eventId}: ${(error as Error).message}`);
        else cut += 1;
        return;
      }
    }
  };
  const total = () => [...acknowledged.values()].reduce((sum, ids) => sum + ids.length, 0);
  const senders = Array.from({ length: connections }, sender);
  await waitFor(() => total() >= 1000, '1000 acknowledged events', 60_000, 10);
  await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 200)));
  killing = true;
  await server.kill();
  await Promise.all(senders);
  t.same(refused, [], 'the live server answered every report with 204');
  t.ok(cut > 0, `the kill cut ${cut} reports in flight (${total()} acknowledged before it)`);

  t.same(await stoppedDatabaseProblems(t, dataDir), [], `${soundnessCheck} after the kill`);
  // Read through the repositories (either dialect): every device's whole history, and the
  // count of all stored events, which proves the histories hold every stored event.
  const { stored, count } = await readStopped(t, dataDir, async (store) => {
    const ids = new Set<string>();
    for (const device of devices) for (const event of await store.devices.history(device.id, 10 * eventsPerDevice)) ids.add(event.eventId);
    return { stored: ids, count: await store.devices.eventCount() };
  });
  t.equal(count, stored.size, "every stored event is in its device's history, once");
  const lost = [...acknowledged.values()].flat().filter((eventId) => !stored.has(eventId));
  t.same(lost, [], 'every acknowledged event is in the database the crash left');
  t.ok(stored.size <= total() + cut, 'nothing was stored that was not sent');

  server = await startLiveServer(t, dataDir);
  api = apiClient(server.url);
  let missing = 0;
  for (const device of devices) {
    const history = new Set(
      (await api.must('GET', `/api/v1/devices/${device.id}`, tokens.support)).history.map((event: { eventId: string }) => event.eventId),
    );
    missing += acknowledged.get(device.id)!.filter((eventId) => !history.has(eventId)).length;
  }
  t.equal(missing, 0, "the restarted server shows every acknowledged event in its device's history");
  const after = await api.call('POST', '/api/v1/device/events', devices[0].token, {
    assignment: plan,
    state: 'downloaded',
    eventId: 'after-restart-1',
  });
  t.equal(after.status, 204, 'devices report again after the restart');
  await server.stop();
  t.same(await stoppedDatabaseProblems(t, dataDir), [], `${soundnessCheck} after the restart`);
});
