// Backup and restore as functions (server/storage/backup.ts, restore.ts): diagnostics bundles
// come back, keys stay out unless asked for, and a store whose bytes no longer match their
// row stops the backup instead of copying damage into it.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { buildApp } from '../../server/app.js';
import { createBackup } from '../../server/storage/backup.js';
import { restoreBackup } from '../../server/storage/restore.js';
import { readBackupManifest } from '../../server/storage/backup-manifest.js';
import { startTestServer, seedFleet, multipartBody, signedManifest, uploadRelease, sha256 } from '../helpers/server.js';

const work = mkdtempSync(join(tmpdir(), 'sluice-backup-unit-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

t.test('a diagnostics bundle is backed up and restored; keys only when asked for', async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  const token = await fleet.addDevice('emu-1');
  const session = (
    await server.call('POST', '/api/v1/support-sessions', fleet.tokens.support, {
      device: 'emu-1',
      reason: 'Meter drift',
      collect: ['logs'],
    })
  ).json;
  await server.call('POST', `/api/v1/support-sessions/${session.id}/consent`, fleet.tokens.customer, {});
  const { payload, contentType } = multipartBody([{ name: 'bundle', filename: 'd.gz', content: 'the logs' }]);
  const uploaded = await server.app.inject({
    method: 'POST',
    url: `/api/v1/device/diagnostics/${session.id}`,
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    payload,
  });
  t.equal(uploaded.statusCode, 204, uploaded.body);

  const out = join(work, 'without-keys');
  const { manifest } = await createBackup({ dataDir: server.dataDir, out, includeKeys: false });
  t.equal(manifest.contents.bundles, 1);
  t.notOk(manifest.includesKeys);
  t.same(manifest.files.map((file) => file.path).sort(), ['sluice.db', `bundles/${session.id}.gz`].sort(), 'no keys, no admin token');
  t.same(readBackupManifest(out), manifest, 'backup.json says what the backup holds');

  const restored = join(work, 'restored-without-keys');
  await restoreBackup({ from: out, dataDir: restored, force: false });
  t.notOk(existsSync(join(restored, 'keys')));
  // The operator brings the server key kept elsewhere.
  const app = await buildApp({ dataDir: restored, serverKeyPath: join(server.dataDir, 'keys', 'server.key') });
  t.teardown(() => app.close());
  const bundle = await app.inject({
    method: 'GET',
    url: `/api/v1/support-sessions/${session.id}/bundle`,
    headers: { authorization: `Bearer ${fleet.tokens.support}` },
  });
  t.equal(bundle.statusCode, 200);
  t.equal(bundle.body, 'the logs');
});

t.test('an artifact that no longer matches its row stops the backup and leaves nothing', async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  const artifact = randomBytes(10_000);
  const published = await uploadRelease(
    server,
    fleet.tokens.release,
    signedManifest(artifact, { product: 'emu', version: '2.0.0' }, [server.keys.release]),
    artifact,
  );
  t.equal(published.status, 201);
  const stored = join(server.dataDir, 'artifacts', published.json.sha256.slice(0, 2), published.json.sha256);
  const damaged = Buffer.from(artifact);
  damaged[5] ^= 0x01;
  writeFileSync(stored, damaged);

  const fresh = join(work, 'fresh');
  await t.rejects(createBackup({ dataDir: server.dataDir, out: fresh, includeKeys: true }), {
    name: 'BackupError',
    code: 'digest_mismatch',
    message: new RegExp(`${published.json.sha256} has 10000 bytes`),
  });
  t.notOk(existsSync(fresh), 'the directory it created is gone');
  const empty = join(work, 'empty');
  mkdirSync(empty);
  await t.rejects(createBackup({ dataDir: server.dataDir, out: empty, includeKeys: true }), { code: 'digest_mismatch' });
  t.same(readdirSync(empty), [], 'an empty directory it was given is empty again');

  await t.rejects(createBackup({ dataDir: join(work, 'nowhere'), out: join(work, 'unused'), includeKeys: false }), { code: 'no_database' });
  t.notOk(existsSync(join(work, 'unused')));
});

t.test('a database elsewhere (sqlite:PATH) is backed up from there', async (t) => {
  const server = await startTestServer(t);
  await seedFleet(server);
  await server.close();
  const elsewhere = join(work, 'elsewhere.db');
  renameSync(join(server.dataDir, 'sluice.db'), elsewhere);
  for (const suffix of ['-wal', '-shm']) rmSync(join(server.dataDir, `sluice.db${suffix}`), { force: true });
  const out = join(work, 'from-elsewhere');
  const { manifest } = await createBackup({ dataDir: server.dataDir, databaseUrl: `sqlite:${elsewhere}`, out, includeKeys: false });
  t.equal(manifest.files[0].path, 'sluice.db');
  t.equal(manifest.files[0].sha256, sha256(readFileSync(join(out, 'sluice.db'))));
  await t.rejects(
    createBackup({ dataDir: server.dataDir, out: join(work, 'from-default'), includeKeys: false }),
    { code: 'no_database' },
    'without it, DIR/sluice.db is looked for',
  );
});

t.test('a PostgreSQL database is refused with the advice to use pg_dump and pg_restore', async (t) => {
  const url = 'postgresql://ops:secret@db.example.com:5432/sluice?sslmode=require';
  const out = join(work, 'never-postgres');
  await t.rejects(createBackup({ dataDir: work, databaseUrl: url, out, includeKeys: false }), {
    name: 'BackupError',
    code: 'database_not_sqlite',
    message: /pg_dump .*artifact store/,
  });
  t.notOk(existsSync(out), 'nothing written');
  await t.rejects(restoreBackup({ from: work, dataDir: join(work, 'never-restored'), databaseUrl: url, force: false }), {
    code: 'database_not_sqlite',
    message: /pg_restore/,
  });
  const refusal = await createBackup({ dataDir: work, databaseUrl: url, out, includeKeys: false }).catch((error: Error) => error);
  t.notMatch((refusal as Error).message, /secret/, 'the password is not shown');
});

t.test('restore refuses a manifest that lies about its files, before writing', async (t) => {
  const server = await startTestServer(t);
  const out = join(work, 'plain');
  await createBackup({ dataDir: server.dataDir, out, includeKeys: true });
  const original = readFileSync(join(out, 'backup.json'), 'utf8');
  type Files = { path: string; size: number; sha256: string; mode: number }[];
  const cases: { name: string; files: (files: Files) => Files; refusal: { code: string; message: RegExp } }[] = [
    {
      name: 'no database listed',
      files: (files) => files.filter((file) => file.path !== 'sluice.db'),
      refusal: { code: 'backup_invalid', message: /lists no sluice\.db/ },
    },
    {
      name: 'a path outside the backup',
      files: (files) => files.map((file, index) => (index === 1 ? { ...file, path: '../../etc/passwd' } : file)),
      refusal: { code: 'backup_invalid', message: /not a sluice backup manifest/ },
    },
    {
      name: 'an absolute path',
      files: (files) => files.map((file, index) => (index === 1 ? { ...file, path: '/etc/passwd' } : file)),
      refusal: { code: 'backup_invalid', message: /not a sluice backup manifest/ },
    },
    {
      name: 'a file listed twice',
      files: (files) => [...files, files[0]],
      refusal: { code: 'backup_invalid', message: /lists a file twice/ },
    },
    {
      name: 'a listed file that is absent',
      files: (files) => [...files, { path: 'keys/extra.key', size: 1, sha256: 'a'.repeat(64), mode: 0o600 }],
      refusal: { code: 'file_missing', message: /extra\.key is missing/ },
    },
    {
      name: 'a wrong size',
      files: (files) => files.map((file) => (file.path === 'sluice.db' ? { ...file, size: file.size + 1 } : file)),
      refusal: { code: 'digest_mismatch', message: /sluice\.db has/ },
    },
  ];
  for (const { name, files, refusal } of cases) {
    const manifest = JSON.parse(original);
    writeFileSync(join(out, 'backup.json'), JSON.stringify({ ...manifest, files: files(manifest.files) }));
    const target = join(work, 'never');
    await t.rejects(restoreBackup({ from: out, dataDir: target, force: false }), refusal, name);
    t.notOk(existsSync(target), `${name}: nothing written`);
  }
  t.same(
    readdirSync(work).filter((name) => name.includes('restoring')),
    [],
    'no staging directory left behind',
  );
});

t.test('force replaces a non-empty data directory and keeps the old one aside', async (t) => {
  const server = await startTestServer(t);
  const out = join(work, 'for-force');
  const { manifest } = await createBackup({ dataDir: server.dataDir, out, includeKeys: false });
  const target = join(work, 'occupied');
  mkdirSync(target);
  writeFileSync(join(target, 'sluice.db'), 'an old database');
  await t.rejects(restoreBackup({ from: out, dataDir: target, force: false }), { code: 'target_not_empty', message: /pass --force/ });
  t.equal(readFileSync(join(target, 'sluice.db'), 'utf8'), 'an old database', 'refused: untouched');
  const { previous } = await restoreBackup({ from: out, dataDir: target, force: true, now: () => new Date('2026-12-01T10:00:00Z') });
  t.equal(previous, `${target}.before-restore-2026-12-01T10-00-00-000Z`);
  t.equal(readFileSync(join(previous!, 'sluice.db'), 'utf8'), 'an old database');
  t.equal(sha256(readFileSync(join(target, 'sluice.db'))), manifest.files[0].sha256);
});
