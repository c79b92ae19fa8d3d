// Backups (issue #8): `sluice backup` taken from a running server while it keeps accepting
// events and uploads, `sluice restore` into a fresh data directory, and a server started on
// it finds every release (bytes and sha256), plan (status, confirmation) and event
// acknowledged before the backup started. A damaged backup is refused with nothing written.
import t from 'tap';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { request } from 'undici';
import { runSluice, startServerProcess } from '../helpers/processes.js';
import { multipartBody, sha256, signedManifest } from '../helpers/server.js';
import { loadPrivateKeyFile } from '../../signing/keys.js';

const work = mkdtempSync(join(tmpdir(), 'sluice-backup-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const dataDir = join(work, 'data');
const backupDir = join(work, 'backup');
const restoredDir = join(work, 'restored');

function client(url: string, adminToken: string) {
  const call = async (method: string, path: string, token: string | null, body?: unknown) => {
    const response = await request(`${url}${path}`, {
      method: method as 'GET',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const bytes = Buffer.from(await response.body.arrayBuffer());
    let json: any = null;
    try {
      json = JSON.parse(bytes.toString());
    } catch {
      /* not JSON */
    }
    return { status: response.statusCode, json, bytes };
  };
  const must = async (method: string, path: string, token: string | null, body?: unknown) => {
    const response = await call(method, path, token, body);
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.bytes.toString()}`);
    return response.json;
  };
  return { call, must, admin: adminToken };
}

type Client = ReturnType<typeof client>;

async function publish(api: Client, url: string, token: string, version: string) {
  const artifact = randomBytes(16 * 1024 + Math.floor(Math.random() * 1024));
  const manifest = signedManifest(artifact, { product: 'emu', version }, [loadPrivateKeyFile(join(dataDir, 'keys', 'release.key'))]);
  const { payload, contentType } = multipartBody([
    { name: 'manifest', filename: 'manifest.json', content: JSON.stringify(manifest) },
    { name: 'artifact', filename: 'image.bin', content: artifact },
  ]);
  const response = await request(`${url}/api/v1/releases`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body: payload,
  });
  const json = (await response.body.json()) as { id: string; sha256: string };
  if (response.statusCode !== 201) throw new Error(`publish ${version}: ${response.statusCode} ${JSON.stringify(json)}`);
  return { id: json.id, version, sha256: sha256(artifact) };
}

const window = { cron: '0 2 * * *', duration: 'PT3H', timezone: 'Europe/Madrid' };

t.test('a backup taken under writes restores every release, plan and event acknowledged before it', async (t) => {
  const server = await startServerProcess(dataDir);
  const api = client(server.url, readFileSync(join(dataDir, 'admin.token'), 'utf8').trim());
  await api.must('POST', '/api/v1/products', api.admin, { id: 'emu', name: 'Energy management unit' });
  await api.must('POST', '/api/v1/customers', api.admin, { id: 'acme', name: 'Acme', timezone: 'Europe/Madrid' });
  const user = async (username: string, role: string, extra = {}) =>
    (await api.must('POST', '/api/v1/users', api.admin, { username, role, ...extra })).token as string;
  const tokens = {
    release: await user('rita', 'release'),
    support: await user('sam', 'support'),
    customer: await user('carla', 'customer', { customer: 'acme' }),
  };
  const devices: Record<string, string> = {};
  for (const id of ['emu-0001', 'emu-0002', 'emu-0003', 'emu-stream']) {
    devices[id] = (
      await api.must('POST', '/api/v1/devices', api.admin, { id, customer: 'acme', product: 'emu', hardware: 'emu-hw-1', version: '1.0.0' })
    ).token;
  }

  const releases = [await publish(api, server.url, tokens.release, '2.0.0'), await publish(api, server.url, tokens.release, '2.1.0')];
  const confirmedPlan = await api.must('POST', '/api/v1/plans', tokens.support, {
    customer: 'acme',
    release: releases[0].id,
    windows: [window],
    notes: 'first wave',
  });
  await api.must('POST', `/api/v1/plans/${confirmedPlan.id}/propose`, tokens.support);
  await api.must('POST', `/api/v1/plans/${confirmedPlan.id}/confirm`, tokens.customer, {
    window: 0,
    maintainer: { name: 'Ana', phone: '+34 600 000 000' },
  });
  const proposedPlan = await api.must('POST', '/api/v1/plans', tokens.support, {
    customer: 'acme',
    release: releases[1].id,
    windows: [window],
  });
  await api.must('POST', `/api/v1/plans/${proposedPlan.id}/propose`, tokens.support);
  const eventIds: Record<string, string[]> = {};
  for (const device of ['emu-0001', 'emu-0002', 'emu-0003']) {
    eventIds[device] = [];
    for (let step = 1; step <= 5; step += 1) {
      const eventId = `${device}-before-${step}`;
      await api.must('POST', '/api/v1/device/events', devices[device], {
        assignment: confirmedPlan.id,
        state: 'downloading',
        progress: step / 5,
        eventId,
      });
      eventIds[device].push(eventId);
    }
  }
  const plansBefore = await Promise.all([confirmedPlan.id, proposedPlan.id].map((id) => api.must('GET', `/api/v1/plans/${id}`, api.admin)));
  t.equal(plansBefore[0].status, 'in_progress', 'the first report started the confirmed plan');

  // Writes keep coming while the backup runs: events from one device, releases from another
  // client, each sequential, so what a consistent snapshot holds is a prefix of each stream.
  let backupRunning = true;
  let acknowledgedDuringBackup = 0;
  const streamedEvents: string[] = [];
  const streamedReleases: Awaited<ReturnType<typeof publish>>[] = [];
  const eventStream = (async () => {
    for (let index = 0; backupRunning && index < 2000; index += 1) {
      const eventId = `stream-${index}`;
      await api.must('POST', '/api/v1/device/events', devices['emu-stream'], {
        assignment: null,
        state: 'idle',
        detail: `tick ${index}`,
        eventId,
      });
      streamedEvents.push(eventId);
      if (backupRunning) acknowledgedDuringBackup += 1;
    }
  })();
  const uploadStream = (async () => {
    for (let index = 0; backupRunning && index < 100; index += 1) {
      streamedReleases.push(await publish(api, server.url, tokens.release, `3.0.${index}`));
    }
  })();
  const backup = await runSluice(['backup', '--out', backupDir, '--data-dir', dataDir, '--include-keys']);
  backupRunning = false;
  await Promise.all([eventStream, uploadStream]);
  t.equal(backup.code, 0, backup.stderr);
  t.match(backup.stdout, /releases \(\d+ artifacts\), 2 plans, \d+ device events/);
  t.ok(acknowledgedDuringBackup > 0, 'the server acknowledged writes while the backup ran');

  const manifest = JSON.parse(readFileSync(join(backupDir, 'backup.json'), 'utf8'));
  t.match(manifest, { format: 'sluice-backup', formatVersion: 1, includesKeys: true });
  t.ok(manifest.migrations.length > 0);
  for (const name of ['root.key', 'release.key', 'server.key'])
    t.equal(statSync(join(backupDir, 'keys', name)).mode & 0o777, 0o600, `keys/${name} stays 0600`);
  t.equal(statSync(join(backupDir, 'admin.token')).mode & 0o777, 0o600);
  t.notOk(existsSync(join(backupDir, 'sluice.db-wal')), 'the database copy is one self-contained file');

  t.equal(
    (await runSluice(['backup', '--out', backupDir, '--data-dir', dataDir])).code,
    1,
    'a backup never writes into a non-empty directory',
  );
  await server.stop();

  const refused = await runSluice(['restore', '--from', backupDir, '--data-dir', dataDir]);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /is not empty.*--force/);

  const restored = await runSluice(['restore', '--from', backupDir, '--data-dir', restoredDir]);
  t.equal(restored.code, 0, restored.stderr);
  t.equal(statSync(join(restoredDir, 'keys', 'server.key')).mode & 0o777, 0o600);
  t.equal(statSync(join(restoredDir, 'admin.token')).mode & 0o777, 0o600);
  t.same(
    readdirSync(work).filter((name) => name.includes('restoring')),
    [],
    'no staging directory left behind',
  );

  // What the snapshot holds of each stream is a prefix of what was acknowledged, in order:
  // no release without its artifact, no event missing before a later one.
  const snapshot = new Database(join(restoredDir, 'sluice.db'), { readonly: true });
  const restoredStream = (
    snapshot.prepare("SELECT event_id FROM device_events WHERE device = 'emu-stream' ORDER BY id").all() as { event_id: string }[]
  ).map((row) => row.event_id);
  const restoredVersions = new Set(
    (snapshot.prepare('SELECT version FROM releases').all() as { version: string }[]).map((row) => row.version),
  );
  snapshot.close();
  t.same(restoredStream, streamedEvents.slice(0, restoredStream.length), 'streamed events: a prefix, no holes');
  const streamedIn = streamedReleases.filter((release) => restoredVersions.has(release.version));
  t.same(streamedIn, streamedReleases.slice(0, streamedIn.length), 'streamed releases: a prefix, no holes');
  t.equal(restoredVersions.size, 2 + streamedIn.length, 'no release the client did not see acknowledged');

  const again = await startServerProcess(restoredDir);
  t.teardown(again.stop);
  const restoredApi = client(again.url, readFileSync(join(restoredDir, 'admin.token'), 'utf8').trim());
  const downloads = [];
  for (const release of [...releases, ...streamedIn]) {
    const download = await restoredApi.call('GET', `/api/v1/releases/${release.id}/artifact`, tokens.support);
    downloads.push({ version: release.version, status: download.status, sha256: sha256(download.bytes) });
  }
  t.same(
    downloads,
    [...releases, ...streamedIn].map((release) => ({ version: release.version, status: 200, sha256: release.sha256 })),
    'every release downloads with its sha256',
  );
  const plansAfter = await Promise.all(
    [confirmedPlan.id, proposedPlan.id].map((id) => restoredApi.must('GET', `/api/v1/plans/${id}`, restoredApi.admin)),
  );
  t.match(plansAfter[0], { status: 'in_progress', confirmation: { window: 0, maintainer: { name: 'Ana', phone: '+34 600 000 000' } } });
  t.same(plansAfter[0].confirmation, plansBefore[0].confirmation);
  t.equal(plansAfter[1].status, 'proposed');
  for (const device of Object.keys(eventIds)) {
    const history = (await restoredApi.must('GET', `/api/v1/devices/${device}`, tokens.support)).history as { eventId: string }[];
    t.same(history.map((event) => event.eventId).reverse(), eventIds[device], `every event of ${device}`);
  }
  // The restored instance keeps serving: old tokens work and new writes land.
  t.equal(
    (
      await restoredApi.call('POST', '/api/v1/device/events', devices['emu-0001'], {
        assignment: confirmedPlan.id,
        state: 'downloaded',
        eventId: 'after-restore',
      })
    ).status,
    204,
  );
  const checkin = await restoredApi.call('POST', '/api/v1/device/checkin', devices['emu-0002'], {
    version: '1.0.0',
    nonce: randomBytes(16).toString('hex'),
  });
  t.equal(checkin.status, 200, 'check-in answers are signed with the restored server key');
  await again.stop();
});

t.test('a damaged, unfinished or too new backup is refused with a clear message and nothing is written', async (t) => {
  if (!existsSync(join(backupDir, 'backup.json'))) return t.fail('needs the backup of the first test');
  const artifact = (JSON.parse(readFileSync(join(backupDir, 'backup.json'), 'utf8')).files as { path: string }[]).find((file) =>
    file.path.startsWith('artifacts/'),
  )!;
  const damages: { name: string; damage: (copy: string) => void; message: RegExp }[] = [
    {
      name: 'a flipped byte in an artifact',
      damage: (copy) => {
        const path = join(copy, artifact.path);
        const bytes = readFileSync(path);
        bytes[100] ^= 0xff;
        writeFileSync(path, bytes);
      },
      message: /has \d+ bytes with sha256 [0-9a-f]{64}; expected/,
    },
    { name: 'a missing manifest', damage: (copy) => rmSync(join(copy, 'backup.json')), message: /backup\.json is missing/ },
    {
      name: 'a schema newer than this code',
      damage: (copy) =>
        editManifest(copy, (manifest) => {
          manifest.migrations.push('999_from_the_future.sql');
        }),
      message: /migrations this sluice does not know \(999_from_the_future\.sql\)/,
    },
  ];
  for (const [index, { name, damage, message }] of damages.entries()) {
    const copy = join(work, `damaged-${index}`);
    cpSync(backupDir, copy, { recursive: true });
    damage(copy);
    const target = join(work, `target-${index}`);
    const result = await runSluice(['restore', '--from', copy, '--data-dir', target]);
    t.equal(result.code, 1, name);
    t.match(result.stderr, message, name);
    t.notOk(existsSync(target), `${name}: nothing written`);
  }
  t.same(
    readdirSync(work).filter((name) => name.includes('restoring')),
    [],
    'no staging directory left behind',
  );
});

t.test('sluice --help lists both verbs', async (t) => {
  const help = await runSluice(['--help']);
  t.match(help.stdout, /sluice backup --out DIR \[--data-dir DIR\] \[--database URL\] \[--include-keys\]/);
  t.match(help.stdout, /sluice restore --from DIR \[--data-dir DIR\] \[--database URL\] \[--force\]/);
});

t.test('on PostgreSQL, backup and restore refuse and say what to use instead', async (t) => {
  const out = join(work, 'postgres-backup');
  const url = 'postgres://sluice:secret@db.example.com/sluice';
  const backup = await runSluice(['backup', '--out', out, '--data-dir', join(work, 'unused'), '--database', url]);
  t.equal(backup.code, 1, 'backup refused');
  t.match(backup.stderr, /this server's database is PostgreSQL .*pg_dump --format=custom.*copy the artifact store/, 'with the advice');
  t.notMatch(backup.stderr, /secret/, 'the password is not printed');
  t.notOk(existsSync(out), 'nothing written');
  const restore = await runSluice(['restore', '--from', out, '--data-dir', join(work, 'unused')], { env: { SLUICE_DATABASE_URL: url } });
  t.equal(restore.code, 1, 'restore refused, the database named by SLUICE_DATABASE_URL');
  t.match(restore.stderr, /pg_restore/);
  const bad = await runSluice(['backup', '--out', out, '--database', 'mysql://h/x']);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /--database must be sqlite:PATH or postgres:\/\//, "a bad URL is refused by the option's name");
});

function editManifest(directory: string, edit: (manifest: any) => void) {
  const path = join(directory, 'backup.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8'));
  edit(manifest);
  writeFileSync(path, JSON.stringify(manifest));
}
