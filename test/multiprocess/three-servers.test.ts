// Several processes, one database (issue 14): three `sluice server` processes share one
// PostgreSQL database and one artifact directory. A release is published through the first,
// the plan proposed through the second and confirmed through the third; real agents and
// `sluice simulate` devices are spread over all three; the second is SIGKILLed in the middle
// of the rollout and started again on its port. Every device commits, every acknowledged
// event is stored once, and each wave verdict and the completion happen once.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { startLiveServer, apiClient, adminTokenOf, publishLive, type LiveServer } from '../helpers/live-server.js';
import { prepareDevice, startAgentProcess, waitFor } from '../helpers/agent.js';
import { lateJoinersRegistered, simulateLateJoiners } from '../helpers/processes.js';
import { postgresTestDatabase, postgresUnavailable } from '../helpers/database.js';
import { openStore } from '../../server/storage/open.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

t.test('three processes on one PostgreSQL database roll a plan out once', { skip: (await postgresUnavailable()) ?? false }, async (t) => {
  const database = await postgresTestDatabase(t);
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-three-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const ports = [await freePort(), await freePort(), await freePort()];
  const serverArguments = (port: number) => ['--database', database.url, '--poll-seconds', '1', '--port', String(port)];
  // The first start bootstraps keys and the admin token; the others find them.
  const servers: LiveServer[] = [await startLiveServer(t, dataDir, { extra: serverArguments(ports[0]) })];
  servers.push(...(await Promise.all(ports.slice(1).map((port) => startLiveServer(t, dataDir, { extra: serverArguments(port) })))));
  const [first, second, third] = servers.map((server) => apiClient(server.url));
  const admin = adminTokenOf(dataDir);

  await first.must('POST', '/api/v1/products', admin, { id: 'emu', name: 'Energy management unit' });
  await second.must('POST', '/api/v1/customers', admin, { id: 'acme', name: 'Acme', timezone: 'UTC' });
  const user = async (api: typeof first, username: string, role: string, extra = {}) =>
    (await api.must('POST', '/api/v1/users', admin, { username, role, ...extra })).token as string;
  const tokens = {
    release: await user(first, 'rita', 'release'),
    support: await user(second, 'sam', 'support'),
    customer: await user(third, 'carla', 'customer', { customer: 'acme' }),
  };
  const agents = [0, 1, 2, 3, 4, 5].map((index) => ({ id: `emu-agent-${index}`, server: index % 3 }));
  const agentTokens = new Map<string, string>();
  for (const agent of agents) {
    const api = [first, second, third][agent.server];
    agentTokens.set(
      agent.id,
      (
        await api.must('POST', '/api/v1/devices', admin, {
          id: agent.id,
          customer: 'acme',
          product: 'emu',
          hardware: 'emu-hw-1',
          version: '1.0.0',
        })
      ).token,
    );
  }

  const release = await publishLive(first, dataDir, tokens.release, '2.0.0', randomBytes(64 * 1024));
  const now = Date.now();
  const local = (at: number) => new Date(at).toISOString().slice(0, 16);
  const window = { start: local(now - 3600_000), end: local(now + 4 * 3600_000), timezone: 'UTC' };
  const plan = await second.must('POST', '/api/v1/plans', tokens.support, {
    customer: 'acme',
    release,
    windows: [window],
    waves: [
      { name: 'pilot', percent: 50 },
      { name: 'rest', percent: 100 },
    ],
    expectedInstallSeconds: 5,
  });
  await second.must('POST', `/api/v1/plans/${plan.id}/propose`, tokens.support);
  await third.must('POST', `/api/v1/plans/${plan.id}/confirm`, tokens.customer, {
    window: 0,
    maintainer: { name: 'Ana', phone: '+34 600 000 000' },
  });

  const running = agents.map((agent) => {
    const device = prepareDevice(join(dataDir, 'devices', agent.id), {
      server: servers[agent.server].url,
      deviceId: agent.id,
      token: agentTokens.get(agent.id)!,
      rootPath: join(dataDir, 'keys', 'root.json'),
      installSeconds: 5,
    });
    return startAgentProcess(device);
  });
  t.teardown(() => Promise.all(running.map((agent) => agent.stop())));
  // Simulated devices join the confirmed plan late, into its last wave, ten through each process.
  const simulations = servers.map((server, index) =>
    simulateLateJoiners(server.url, tokens.support, join(dataDir, `simulation-${index}`), `sim-${index}-`, '2.0.0'),
  );

  const store = await openStore({ url: database.url, dataDir });
  t.teardown(() => store.close());
  const committed = async () => (await first.must('GET', `/api/v1/plans/${plan.id}`, tokens.support)).progress.byState.committed ?? 0;
  // The crash, mid-rollout: some devices are done, most are not.
  await waitFor(async () => (await committed()) >= 3, 'the first devices to commit', 90_000, 250);
  await waitFor(
    () => servers.every((_server, index) => lateJoinersRegistered(join(dataDir, `simulation-${index}`)) === 10),
    'the late joiners to be registered',
    90_000,
    250,
  );
  await servers[1].kill();
  servers[1] = await startLiveServer(t, dataDir, { extra: serverArguments(ports[1]) });

  const results = await Promise.all(simulations);
  for (const result of results) t.equal(result.code, 0, 'sluice simulate exits 0', { stderr: result.stderr.slice(-2000) });
  for (const result of results) t.match(result.stderr, /final: \{"idle@2\.0\.0":10\}/, 'every simulated device ended on 2.0.0');
  await waitFor(
    async () => (await first.must('GET', `/api/v1/plans/${plan.id}`, tokens.support)).status === 'completed',
    'the plan to complete',
    90_000,
    250,
  );

  const view = await third.must('GET', `/api/v1/plans/${plan.id}`, tokens.support);
  t.equal(view.progress.byState.committed, 36, 'all 36 devices committed');
  for (const agent of agents) {
    const device = await first.must('GET', `/api/v1/devices/${agent.id}`, tokens.support);
    t.equal(device.device.version, '2.0.0', `${agent.id} runs 2.0.0`);
  }
  const subject = `plan:${plan.id}`;
  t.equal(await store.audit.count({ subject, action: 'plan.confirm' }), 1, 'confirmed once');
  t.equal(await store.audit.count({ subject, action: 'plan.start' }), 1, 'started once');
  t.equal(await store.audit.count({ subject, action: 'plan.wave_succeeded' }), 2, 'each of the two waves judged once');
  t.equal(await store.audit.count({ subject, action: 'plan.wave_failed' }), 0);
  t.equal(await store.audit.count({ subject, action: 'plan.complete' }), 1, 'completed once');
  t.equal(await store.audit.count({ subject, action: 'plan.device_joined' }), 30, 'each late device joined once');
  const events = await store.devices.eventCounts(plan.id);
  t.equal(events.devices, 36, 'every device reported');
  t.equal(events.duplicates, 0, 'no acknowledged event was stored twice');
  t.ok(events.committed === 36, 'one committed report per device');
});
