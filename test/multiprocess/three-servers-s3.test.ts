// Several processes, one database, one bucket (issues 14 and 16): three `sluice server`
// processes share one PostgreSQL database and one S3 bucket (moto, helpers/object-store.ts),
// and nothing else: each has a data directory of its own, holding only the same keys. The
// first streams artifacts from the bucket, the other two redirect devices to pre-signed URLs.
// A release is published through the first, the plan proposed through the second and
// confirmed through the third; real agents and `sluice simulate` devices are spread over all
// three; the second is SIGKILLed in the middle of the rollout and started again on its port.
// Every device commits, each wave verdict and the completion happen once, the bucket holds
// the one artifact and nothing else, and no data directory holds an artifact.
import t from 'tap';
import { cpSync, existsSync, mkdtempSync, rmSync, mkdirSync, copyFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { startLiveServer, apiClient, adminTokenOf, publishLive, type LiveServer } from '../helpers/live-server.js';
import { prepareDevice, startAgentProcess, waitFor } from '../helpers/agent.js';
import { lateJoinersRegistered, simulateLateJoiners } from '../helpers/processes.js';
import { postgresTestDatabase, postgresUnavailable } from '../helpers/database.js';
import { freePort, objectStoreUnavailable, startObjectStore } from '../helpers/object-store.js';
import { openStore } from '../../server/storage/open.js';

const skip = objectStoreUnavailable() || (await postgresUnavailable()) || false;

t.test('three processes on one PostgreSQL database and one bucket roll a plan out once', { skip }, async (t) => {
  const objects = await startObjectStore(t);
  // The server processes and the simulators read the AWS_* variables as any AWS tool would.
  Object.assign(process.env, objects.env);
  const database = await postgresTestDatabase(t);
  const root = mkdtempSync(join(tmpdir(), 'sluice-three-s3-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dataDirs = [0, 1, 2].map((index) => join(root, `server-${index}`));
  const ports = [await freePort(), await freePort(), await freePort()];
  const delivery = [
    ['--artifact-delivery', 'stream'],
    ['--artifact-delivery', 'redirect', '--presign-seconds', '60'],
    ['--artifact-delivery', 'redirect'],
  ];
  const serverArguments = (index: number) => [
    '--database',
    database.url,
    '--artifact-store',
    objects.storeUrl(),
    ...delivery[index],
    '--poll-seconds',
    '1',
    '--port',
    String(ports[index]),
  ];
  const start = (index: number) => startLiveServer(t, dataDirs[index], { extra: serverArguments(index) });
  // The first start bootstraps keys and the admin token; the others get copies of the keys only.
  const servers: LiveServer[] = [await start(0)];
  for (const dataDir of dataDirs.slice(1)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    cpSync(join(dataDirs[0], 'keys'), join(dataDir, 'keys'), { recursive: true });
    copyFileSync(join(dataDirs[0], 'admin.token'), join(dataDir, 'admin.token'));
  }
  servers.push(...(await Promise.all([start(1), start(2)])));
  const [first, second, third] = servers.map((server) => apiClient(server.url));
  const admin = adminTokenOf(dataDirs[0]);

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

  const artifact = randomBytes(1024 * 1024 + 17);
  const release = await publishLive(first, dataDirs[0], tokens.release, '2.0.0', artifact);
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
    const device = prepareDevice(join(root, 'devices', agent.id), {
      server: servers[agent.server].url,
      deviceId: agent.id,
      token: agentTokens.get(agent.id)!,
      rootPath: join(dataDirs[0], 'keys', 'root.json'),
      installSeconds: 5,
    });
    return startAgentProcess(device);
  });
  t.teardown(() => Promise.all(running.map((agent) => agent.stop())));
  const simulations = servers.map((server, index) =>
    simulateLateJoiners(server.url, tokens.support, join(root, `simulation-${index}`), `sim-${index}-`, '2.0.0'),
  );

  const store = await openStore({ url: database.url, dataDir: dataDirs[0] });
  t.teardown(() => store.close());
  const committed = async () => (await first.must('GET', `/api/v1/plans/${plan.id}`, tokens.support)).progress.byState.committed ?? 0;
  await waitFor(async () => (await committed()) >= 3, 'the first devices to commit', 90_000, 250);
  await waitFor(
    () => servers.every((_server, index) => lateJoinersRegistered(join(root, `simulation-${index}`)) === 10),
    'the late joiners to be registered',
    90_000,
    250,
  );
  await servers[1].kill();
  servers[1] = await start(1);

  const results = await Promise.all(simulations);
  for (const result of results) t.equal(result.code, 0, result.stderr.slice(-2000));
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
  t.equal(await store.audit.count({ subject, action: 'plan.start' }), 1, 'started once');
  t.equal(await store.audit.count({ subject, action: 'plan.wave_succeeded' }), 2, 'each of the two waves judged once');
  t.equal(await store.audit.count({ subject, action: 'plan.complete' }), 1, 'completed once');

  const digest = createHash('sha256').update(artifact).digest('hex');
  t.same(
    await objects.keys(),
    [`sluice/artifacts/${digest.slice(0, 2)}/${digest}`],
    'the bucket holds the one artifact, no temporary object',
  );
  t.same(await objects.multipartUploads(), [], 'no multipart upload left open');
  const presigned = objects.seen.filter((request) => request.query.has('X-Amz-Signature'));
  t.ok(presigned.length >= 10, `devices of the redirecting servers fetched from the store (${presigned.length} pre-signed GETs)`);
  t.ok(
    objects.seen.every((request) => !request.authorization?.startsWith('Bearer')),
    'no bearer token ever reached the store',
  );
  for (const dataDir of dataDirs) {
    const stored = existsSync(join(dataDir, 'artifacts')) ? readdirSync(join(dataDir, 'artifacts'), { recursive: true }) : [];
    t.same(stored, [], `${dataDir} holds no artifact`);
  }
});
