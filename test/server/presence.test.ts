// Device presence is written behind, in batches (server/storage/presence.ts): what a check-in
// notes reaches the database at the next flush or on close, never moves presence backwards,
// and merges check-ins as consecutive writes would.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../server/storage/database.js';
import { createPresenceWriter } from '../../server/storage/presence.js';
import { startTestServer, seedFleet } from '../helpers/server.js';

function freshDatabase(t: { teardown: (fn: () => unknown) => void }): Db {
  const directory = mkdtempSync(join(tmpdir(), 'sluice-presence-'));
  const db = openDatabase(join(directory, 'sluice.db'));
  t.teardown(() => { db.close(); rmSync(directory, { recursive: true, force: true }); });
  const now = '2026-01-01T00:00:00.000Z';
  db.prepare("INSERT INTO products (id, name, created_at) VALUES ('emu', 'EMU', ?)").run(now);
  db.prepare("INSERT INTO customers (id, name, timezone, created_at) VALUES ('acme', 'Acme', 'UTC', ?)").run(now);
  for (const id of ['emu-1', 'emu-2']) {
    db.prepare("INSERT INTO devices (id, customer, product, hardware, version, created_at) VALUES (?, 'acme', 'emu', 'hw', '1.0.0', ?)").run(id, now);
  }
  return db;
}

const presenceOf = (db: Db, id: string) =>
  db.prepare('SELECT last_seen_at, state FROM devices WHERE id = ?').get(id) as { last_seen_at: string | null; state: string | null };

// An interval no test waits for: every write below comes from flush() or close().
const never = 3_600_000;

t.test('nothing is written until a flush, then every pending device', async (t) => {
  const db = freshDatabase(t);
  const presence = createPresenceWriter(db, never);
  t.teardown(() => presence.close());
  presence.seen('emu-1', new Date('2026-02-01T10:00:00Z'), 'idle');
  presence.seen('emu-2', new Date('2026-02-01T10:00:01Z'), 'downloading');
  t.same(presenceOf(db, 'emu-1'), { last_seen_at: null, state: null }, 'not written at once');
  presence.flush();
  t.same(presenceOf(db, 'emu-1'), { last_seen_at: '2026-02-01T10:00:00.000Z', state: 'idle' });
  t.same(presenceOf(db, 'emu-2'), { last_seen_at: '2026-02-01T10:00:01.000Z', state: 'downloading' });
});

t.test('check-ins in one interval merge: the latest time, the latest reported state', async (t) => {
  const db = freshDatabase(t);
  const presence = createPresenceWriter(db, never);
  t.teardown(() => presence.close());
  presence.seen('emu-1', new Date('2026-02-01T10:00:00Z'), 'staged');
  presence.seen('emu-1', new Date('2026-02-01T10:00:05Z'), null);
  presence.flush();
  t.same(presenceOf(db, 'emu-1'), { last_seen_at: '2026-02-01T10:00:05.000Z', state: 'staged' }, 'a check-in without a state keeps the last one');
  presence.seen('emu-1', new Date('2026-02-01T10:00:10Z'), null);
  presence.flush();
  t.same(presenceOf(db, 'emu-1'), { last_seen_at: '2026-02-01T10:00:10.000Z', state: 'staged' }, 'and so does one in a later batch');
});

t.test('a pending observation never overwrites newer presence (an event, another process)', async (t) => {
  const db = freshDatabase(t);
  const presence = createPresenceWriter(db, never);
  t.teardown(() => presence.close());
  presence.seen('emu-1', new Date('2026-02-01T10:00:00Z'), 'downloading');
  // A device event is written at once, inside its own transaction, with a later time.
  db.prepare("UPDATE devices SET state = 'installing', last_seen_at = '2026-02-01T10:00:02.000Z' WHERE id = 'emu-1'").run();
  presence.flush();
  t.same(presenceOf(db, 'emu-1'), { last_seen_at: '2026-02-01T10:00:02.000Z', state: 'installing' });
});

t.test('the timer flushes by itself within its interval', async (t) => {
  const db = freshDatabase(t);
  const presence = createPresenceWriter(db, 20);
  t.teardown(() => presence.close());
  presence.seen('emu-1', new Date('2026-02-01T10:00:00Z'), 'idle');
  // Bounded wait: poll for the row rather than assume how soon the timer ran.
  for (let attempt = 0; attempt < 200 && presenceOf(db, 'emu-1').last_seen_at === null; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.equal(presenceOf(db, 'emu-1').last_seen_at, '2026-02-01T10:00:00.000Z');
});

t.test('a failed write keeps the batch for the next flush', async (t) => {
  const db = freshDatabase(t);
  const presence = createPresenceWriter(db, never);
  t.teardown(() => presence.close());
  presence.seen('emu-1', new Date('2026-02-01T10:00:00Z'), 'idle');
  // Another connection holds the write lock, so this one's transaction cannot start.
  const other = openDatabase(db.name);
  other.pragma('busy_timeout = 0');
  db.pragma('busy_timeout = 0');
  other.exec('BEGIN IMMEDIATE');
  t.throws(() => presence.flush(), /locked|busy/i);
  other.exec('ROLLBACK');
  other.close();
  presence.seen('emu-2', new Date('2026-02-01T10:00:01Z'), 'idle');
  presence.flush();
  t.equal(presenceOf(db, 'emu-1').last_seen_at, '2026-02-01T10:00:00.000Z', 'the failed batch was written later');
  t.equal(presenceOf(db, 'emu-2').last_seen_at, '2026-02-01T10:00:01.000Z');
});

t.test('through the server: a check-in is recorded, and closing the server writes it', async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  const token = await fleet.addDevice('emu-0001');
  const answer = await server.call('POST', '/api/v1/device/checkin', token, { version: '1.0.0', nonce: 'ab'.repeat(16), state: 'idle' });
  t.equal(answer.status, 200);
  t.equal(answer.json.signed.nonce, 'ab'.repeat(16));
  const path = server.app.sluice.db.name;
  await server.close();
  const db = openDatabase(path);
  t.teardown(() => db.close());
  const row = presenceOf(db, 'emu-0001');
  t.equal(row.last_seen_at, answer.json.signed.serverTime, 'flushed on close, at the answer\'s time');
  t.equal(row.state, 'idle');
});
