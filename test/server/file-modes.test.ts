// The data directory and what the server creates in it are owner-only (0700 directories,
// 0600 files), as backups are, whatever the umask: a real `sluice server` started with a
// permissive umask (000), a release published through it, then every path stat'ed.
import t from 'tap';
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLiveServer, apiClient, adminTokenOf, publishLive } from '../helpers/live-server.js';
import { testDialect } from '../helpers/database.js';

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8).padStart(4, '0');

t.test('a first start under umask 000 creates every directory 0700 and every secret 0600', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'sluice-modes-'));
  t.teardown(() => rmSync(parent, { recursive: true, force: true }));
  const dataDir = join(parent, 'data');
  // The child inherits the umask; this test file runs in a process of its own.
  const previous = process.umask(0o000);
  let live: Awaited<ReturnType<typeof startLiveServer>>;
  try {
    live = await startLiveServer(t, dataDir);
  } finally {
    process.umask(previous);
  }
  const api = apiClient(live.url);
  const admin = adminTokenOf(dataDir);
  await api.must('POST', '/api/v1/products', admin, { id: 'emu', name: 'Energy management unit' });
  const { token } = await api.must('POST', '/api/v1/users', admin, { username: 'rita', role: 'release' });
  await publishLive(api, dataDir, token, '1.0.0', Buffer.alloc(4096, 1));

  const expected: Record<string, string> = {
    '.': '0700',
    keys: '0700',
    artifacts: '0700',
    tmp: '0700',
    bundles: '0700',
    'admin.token': '0600',
    'keys/root.key': '0600',
    'keys/release.key': '0600',
    'keys/server.key': '0600',
    // Public, but nobody else may rewrite it.
    'keys/root.json': '0644',
  };
  // SQLite's own files exist only when the server runs on SQLite; its -wal and -shm while it runs.
  if (testDialect === 'sqlite') Object.assign(expected, { 'sluice.db': '0600', 'sluice.db-wal': '0600', 'sluice.db-shm': '0600' });
  const actual = Object.fromEntries(Object.keys(expected).map((path) => [path, modeOf(join(dataDir, path))]));
  t.same(actual, expected);
  const shards = readdirSync(join(dataDir, 'artifacts'), { withFileTypes: true }).filter((entry) => entry.isDirectory());
  t.ok(shards.length > 0, 'the published artifact has its directory');
  for (const shard of shards) t.equal(modeOf(join(dataDir, 'artifacts', shard.name)), '0700', `artifacts/${shard.name}`);
  await live.stop();
});
