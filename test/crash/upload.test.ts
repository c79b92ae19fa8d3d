// Crash consistency of uploads (issue #8): the server killed with SIGKILL while a release is
// being uploaded. After the restart the database is sound (SQLite: `PRAGMA integrity_check`;
// PostgreSQL, with SLUICE_TEST_DATABASE=postgres: no session of the dead server left), no
// half-stored release is visible (every release row has its artifact, byte for byte, and every
// stored artifact has its row), the temporary files of the cut upload are gone, and every
// release acknowledged with 201 before the kill is still there.
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { request } from 'undici';
import {
  apiClient,
  dataDirFiles,
  inspectDataDir,
  publishLive,
  releaseUpload,
  seedLiveFleet,
  soundnessCheck,
  startLiveServer,
} from '../helpers/live-server.js';
import { sha256 } from '../helpers/server.js';
import { waitFor } from '../helpers/agent.js';
import { orphanAfterMs } from '../../server/storage/artifact-store.js';

function newDataDir(t: Test) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-crash-upload-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  return dataDir;
}

/** The stopped server's verdict, with each release's artifact matched to a stored file by digest and bytes. */
async function assertConsistent(t: Test, dataDir: string, acknowledged: string[]) {
  const state = await inspectDataDir(t, dataDir);
  t.same(state.problems, [], soundnessCheck);
  t.same(state.temporary, [], 'no temporary file is left');
  const stored = new Map(state.artifacts.map((artifact) => [artifact.name, artifact]));
  for (const release of state.releases) {
    const artifact = stored.get(release.sha256);
    t.ok(
      artifact && artifact.sha256 === release.sha256 && artifact.size === release.size,
      `release ${release.version} has its whole artifact`,
    );
  }
  const referenced = new Set(state.releases.map((release) => release.sha256));
  t.same(
    state.artifacts.filter((artifact) => !referenced.has(artifact.name)),
    [],
    'no stored artifact without its release',
  );
  const versions = new Set(state.releases.map((release) => release.version));
  t.same(
    acknowledged.filter((version) => !versions.has(version)),
    [],
    'every release acknowledged with 201 is there',
  );
  return state;
}

t.test('killed halfway through an upload: the partial bytes are cleaned up and the version stays free', async (t) => {
  const dataDir = newDataDir(t);
  let server = await startLiveServer(t, dataDir);
  let api = apiClient(server.url);
  const { tokens } = await seedLiveFleet(api, dataDir, 0);
  await publishLive(api, dataDir, tokens.release, '2.0.0', randomBytes(256 * 1024));

  // The body is a stream that sends half of the multipart upload and then stalls, so the kill
  // lands while the server holds a partial temporary file.
  const artifact = randomBytes(8 * 1024 * 1024);
  const { payload, contentType } = releaseUpload(dataDir, '2.1.0', artifact);
  const body = new PassThrough();
  body.write(payload.subarray(0, payload.length / 2));
  const upload = request(`${server.url}/api/v1/releases`, {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${tokens.release}`, 'content-type': contentType },
    headersTimeout: 30_000,
  }).then(
    (response) => ({ status: response.statusCode }),
    (error: Error) => ({ error }),
  );
  const partial = await waitFor(
    () => {
      const { temporary } = dataDirFiles(dataDir);
      return temporary.find((name) => statSync(join(dataDir, 'tmp', name)).size >= 1024 * 1024);
    },
    'the upload to reach the temporary file',
    20_000,
    50,
  );
  await server.kill();
  body.destroy();
  t.ok('error' in (await upload), 'the cut upload got no answer');

  const crashed = await inspectDataDir(t, dataDir);
  t.same(crashed.problems, [], `the database is sound right after the kill (${soundnessCheck})`);
  t.same(crashed.temporary, [partial], 'the kill left the partial upload behind (the clean-up below has work to do)');
  t.same(
    crashed.releases.map((release) => release.version),
    ['2.0.0'],
    'the cut upload has no row',
  );

  server = await startLiveServer(t, dataDir);
  api = apiClient(server.url);
  const listed = await api.must('GET', '/api/v1/releases?product=emu', tokens.release);
  t.same(
    listed.map((release: { version: string }) => release.version),
    ['2.0.0'],
    'the API shows only the acknowledged release',
  );
  t.equal(
    await publishLive(api, dataDir, tokens.release, '2.1.0', artifact).then(() => 'published'),
    'published',
    'the cut version can be published again',
  );
  const download = await api.call('GET', `/api/v1/releases/${listed[0].id}/artifact`, tokens.release);
  t.equal(download.status, 200);
  t.equal(sha256(download.bytes), listed[0].sha256, 'the acknowledged release serves its own bytes');
  await server.stop();
  await assertConsistent(t, dataDir, ['2.0.0', '2.1.0']);
});

t.test('bytes moved into the store whose release row never committed are removed at start-up', async (t) => {
  // A kill between the rename into the store and the row's transaction is too short a window
  // to hit with a signal on purpose; the test builds exactly what it leaves and restarts.
  const dataDir = newDataDir(t);
  let server = await startLiveServer(t, dataDir);
  const { tokens } = await seedLiveFleet(apiClient(server.url), dataDir, 0);
  await publishLive(apiClient(server.url), dataDir, tokens.release, '2.0.0', randomBytes(64 * 1024));
  await server.kill();
  const orphan = randomBytes(64 * 1024);
  const digest = sha256(orphan);
  mkdirSync(join(dataDir, 'artifacts', digest.slice(0, 2)), { recursive: true });
  writeFileSync(join(dataDir, 'artifacts', digest.slice(0, 2), digest), orphan);
  // Left by a crash some time ago: a younger one may be another process's commit in flight.
  const longAgo = new Date(Date.now() - orphanAfterMs - 60_000);
  utimesSync(join(dataDir, 'artifacts', digest.slice(0, 2), digest), longAgo, longAgo);
  const young = randomBytes(64 * 1024);
  const youngDigest = sha256(young);
  mkdirSync(join(dataDir, 'artifacts', youngDigest.slice(0, 2)), { recursive: true });
  writeFileSync(join(dataDir, 'artifacts', youngDigest.slice(0, 2), youngDigest), young);
  writeFileSync(join(dataDir, 'artifacts', 'README'), "not the store's: left alone");
  t.equal(dataDirFiles(dataDir).artifacts.length, 4, 'before the restart the orphans are there');

  server = await startLiveServer(t, dataDir);
  await server.stop();
  t.ok(existsSync(join(dataDir, 'artifacts', 'README')), "a file outside the store's layout is not the store's to remove");
  rmSync(join(dataDir, 'artifacts', 'README'));
  t.ok(
    existsSync(join(dataDir, 'artifacts', youngDigest.slice(0, 2), youngDigest)),
    'an unreferenced artifact written moments ago is left to a later start',
  );
  rmSync(join(dataDir, 'artifacts', youngDigest.slice(0, 2), youngDigest));
  const state = await assertConsistent(t, dataDir, ['2.0.0']);
  t.same(
    state.artifacts.map((artifact) => artifact.name),
    [state.releases[0].sha256],
    "the orphan is gone, the release's artifact stays",
  );
});

t.test('killed at random moments in a stream of uploads: each release is whole or absent', async (t) => {
  const dataDir = newDataDir(t);
  const acknowledged: string[] = [];
  let tokens: Awaited<ReturnType<typeof seedLiveFleet>>['tokens'] | undefined;
  const rounds = 3;
  for (let round = 0; round < rounds; round += 1) {
    const server = await startLiveServer(t, dataDir);
    const api = apiClient(server.url);
    tokens ??= (await seedLiveFleet(api, dataDir, 0)).tokens;
    const release = tokens.release;
    let stopping = false;
    // Two uploaders at once, so that the kill may find one ingesting and one committing.
    const uploader = async (lane: number) => {
      for (let index = 0; !stopping && index < 200; index += 1) {
        const version = `${round + 3}.${lane}.${index}`;
        try {
          await publishLive(api, dataDir, release, version, randomBytes(512 * 1024 + index));
          acknowledged.push(version);
        } catch {
          return; /* the kill */
        }
      }
    };
    const uploaders = [uploader(0), uploader(1)];
    await waitFor(() => acknowledged.length >= (round + 1) * 2, 'a couple of acknowledged uploads', 30_000, 20);
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 400)));
    await server.kill();
    stopping = true;
    await Promise.all(uploaders);
    t.same((await inspectDataDir(t, dataDir)).problems, [], `round ${round}: ${soundnessCheck} right after the kill`);
  }
  // A kill between an artifact's move into the store and its row's commit leaves a young
  // orphan, which a start leaves alone (it may be another process's commit in flight). The
  // last start comes "later": everything the kills left is made old enough to be swept.
  const longAgo = new Date(Date.now() - orphanAfterMs - 60_000);
  for (const entry of readdirSync(join(dataDir, 'artifacts'), { recursive: true, withFileTypes: true }))
    if (entry.isFile()) utimesSync(join(entry.parentPath, entry.name), longAgo, longAgo);
  const server = await startLiveServer(t, dataDir);
  await server.stop();
  const state = await assertConsistent(t, dataDir, acknowledged);
  t.ok(state.releases.length <= acknowledged.length + 2 * rounds, 'at most the uploads in flight at each kill were stored unacknowledged');
});

t.test('several processes share the data directory: a start removes only the uploads of writers that are gone', async (t) => {
  const dataDir = newDataDir(t);
  let server = await startLiveServer(t, dataDir);
  await server.kill();
  const host = hostname().replace(/[^A-Za-z0-9-]/g, '-');
  // A pid that surely belongs to no process any more: a child that has exited.
  const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
  const uuid = () => crypto.randomUUID();
  const live = `${host}.${process.pid}.${uuid()}.upload`;
  const dead = `${host}.${deadPid}.${uuid()}.upload`;
  const otherHostFresh = `other-host.1234.${uuid()}.upload`;
  const otherHostStale = `other-host.1235.${uuid()}.upload`;
  for (const name of [live, dead, otherHostFresh, otherHostStale]) writeFileSync(join(dataDir, 'tmp', name), 'partial');
  const longAgo = new Date(Date.now() - orphanAfterMs - 60_000);
  utimesSync(join(dataDir, 'tmp', otherHostStale), longAgo, longAgo);

  server = await startLiveServer(t, dataDir);
  await server.stop();
  t.same(
    dataDirFiles(dataDir).temporary.sort(),
    [live, otherHostFresh].sort(),
    "a live writer's upload and another host's recent one stay; the dead process's and the long-untouched one go",
  );
});
