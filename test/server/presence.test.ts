// Device presence is written behind, in batches (server/storage/presence.ts): what a check-in
// notes reaches the database at the next flush or on close, never moves presence backwards,
// merges check-ins as consecutive writes would, and a batch that fails to write is kept.
// On both stores.
import t from 'tap';
import { forEachStore } from '../helpers/database.js';
import { createPresenceWriter } from '../../server/storage/presence.js';
import type { Store } from '../../server/storage/store.js';
import { startTestServer, seedFleet } from '../helpers/server.js';

async function seed(store: Store): Promise<void> {
  const now = new Date('2026-01-01T00:00:00Z');
  await store.products.create({ id: 'emu', name: 'EMU' }, now);
  await store.customers.create({ id: 'acme', name: 'Acme', timezone: 'UTC' }, now);
  for (const id of ['emu-1', 'emu-2'])
    await store.devices.create({ id, customer: 'acme', product: 'emu', hardware: 'hw', version: '1.0.0' }, now);
}

const presenceOf = async (store: Store, id: string) => {
  const device = (await store.devices.get(id))!;
  return { lastSeenAt: device.lastSeenAt?.toISOString() ?? null, state: device.state };
};

// An interval no test waits for: every write below comes from flush() or close().
const never = 3_600_000;

forEachStore(t, 'nothing is written until a flush, then every pending device', async (t, store) => {
  await seed(store);
  const presence = createPresenceWriter(store, never);
  t.teardown(() => presence.close());
  presence.seen('emu-1', new Date('2026-02-01T10:00:00Z'), 'idle');
  presence.seen('emu-2', new Date('2026-02-01T10:00:01Z'), 'downloading');
  t.same(await presenceOf(store, 'emu-1'), { lastSeenAt: null, state: null }, 'not written at once');
  await presence.flush();
  t.same(await presenceOf(store, 'emu-1'), { lastSeenAt: '2026-02-01T10:00:00.000Z', state: 'idle' });
  t.same(await presenceOf(store, 'emu-2'), { lastSeenAt: '2026-02-01T10:00:01.000Z', state: 'downloading' });
});

forEachStore(t, 'check-ins in one interval merge: the latest time, the latest reported state', async (t, store) => {
  await seed(store);
  const presence = createPresenceWriter(store, never);
  t.teardown(() => presence.close());
  presence.seen('emu-1', new Date('2026-02-01T10:00:00Z'), 'staged');
  presence.seen('emu-1', new Date('2026-02-01T10:00:05Z'), null);
  await presence.flush();
  t.same(
    await presenceOf(store, 'emu-1'),
    { lastSeenAt: '2026-02-01T10:00:05.000Z', state: 'staged' },
    'a check-in without a state keeps the last one',
  );
  presence.seen('emu-1', new Date('2026-02-01T10:00:10Z'), null);
  await presence.flush();
  t.same(await presenceOf(store, 'emu-1'), { lastSeenAt: '2026-02-01T10:00:10.000Z', state: 'staged' }, 'and so does one in a later batch');
});

forEachStore(t, 'a pending observation never overwrites newer presence (an event, another process)', async (t, store) => {
  await seed(store);
  const presence = createPresenceWriter(store, never);
  t.teardown(() => presence.close());
  presence.seen('emu-1', new Date('2026-02-01T10:00:00Z'), 'downloading');
  presence.seen('emu-2', new Date('2026-02-01T10:00:00Z'), 'downloading');
  // A device event is written at once, inside its own transaction, with a later time.
  await store.devices.applyReport('emu-1', { state: 'installing', at: new Date('2026-02-01T10:00:02Z') });
  await presence.flush();
  t.same(await presenceOf(store, 'emu-1'), { lastSeenAt: '2026-02-01T10:00:02.000Z', state: 'installing' });
  t.same(
    await presenceOf(store, 'emu-2'),
    { lastSeenAt: '2026-02-01T10:00:00.000Z', state: 'downloading' },
    'the rest of the batch is written',
  );
});

forEachStore(t, 'a large batch is written whole, in one transaction', async (t, store) => {
  await seed(store);
  const now = new Date('2026-01-01T00:00:00Z');
  const ids = Array.from({ length: 700 }, (_, index) => `bulk-${String(index).padStart(4, '0')}`);
  for (const id of ids) await store.devices.create({ id, customer: 'acme', product: 'emu', hardware: 'hw', version: '1.0.0' }, now);
  let transactions = 0;
  const counting: Store = {
    ...store,
    transaction: (work) => {
      transactions += 1;
      return store.transaction(work);
    },
  };
  const presence = createPresenceWriter(counting, never);
  t.teardown(() => presence.close());
  ids.forEach((id, index) => presence.seen(id, new Date(Date.UTC(2026, 1, 1, 10, 0, index % 60)), index % 2 ? 'idle' : null));
  await presence.flush();
  t.equal(transactions, 1, 'one transaction');
  const seen = (await store.devices.list({ customer: 'acme' })).filter((device) => device.id.startsWith('bulk-'));
  t.equal(seen.filter((device) => device.lastSeenAt !== null).length, ids.length, 'every device written');
  t.equal(seen.filter((device) => device.state === 'idle').length, ids.length / 2, 'each with its own state');
});

t.test('the timer flushes by itself within its interval', async (t) => {
  const server = await startTestServer(t);
  const { store } = server.app.sluice;
  await seed(store);
  const presence = createPresenceWriter(store, 20);
  t.teardown(() => presence.close());
  presence.seen('emu-1', new Date('2026-02-01T10:00:00Z'), 'idle');
  // Bounded wait: poll for the row rather than assume how soon the timer ran.
  for (let attempt = 0; attempt < 200 && (await presenceOf(store, 'emu-1')).lastSeenAt === null; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.equal((await presenceOf(store, 'emu-1')).lastSeenAt, '2026-02-01T10:00:00.000Z');
});

forEachStore(t, 'a failed write keeps the batch for the next flush', async (t, store) => {
  await seed(store);
  let failing = true;
  // The database refuses the transaction (busy past its timeout, a lost connection).
  const flaky: Store = {
    ...store,
    transaction: (work) => (failing ? Promise.reject(new Error('database is locked')) : store.transaction(work)),
  };
  const presence = createPresenceWriter(flaky, never);
  t.teardown(() => presence.close());
  presence.seen('emu-1', new Date('2026-02-01T10:00:00Z'), 'idle');
  await t.rejects(presence.flush(), /locked/);
  failing = false;
  presence.seen('emu-2', new Date('2026-02-01T10:00:01Z'), 'idle');
  await presence.flush();
  t.equal((await presenceOf(store, 'emu-1')).lastSeenAt, '2026-02-01T10:00:00.000Z', 'the failed batch was written later');
  t.equal((await presenceOf(store, 'emu-2')).lastSeenAt, '2026-02-01T10:00:01.000Z');
});

t.test('through the server: a check-in is recorded, and closing the server writes it', async (t) => {
  const first = await startTestServer(t);
  const fleet = await seedFleet(first);
  const token = await fleet.addDevice('emu-0001');
  const answer = await first.call('POST', '/api/v1/device/checkin', token, { version: '1.0.0', nonce: 'ab'.repeat(16), state: 'idle' });
  t.equal(answer.status, 200);
  t.equal(answer.json.signed.nonce, 'ab'.repeat(16));
  const { databaseUrl } = first.app.sluice.options;
  await first.close();
  // The same data directory and database served again: what the first server wrote on close.
  const again = await startTestServer(t, { dataDir: first.dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
  const device = (await again.app.sluice.store.devices.get('emu-0001'))!;
  t.equal(device.lastSeenAt?.toISOString(), answer.json.signed.serverTime, "flushed on close, at the answer's time");
  t.equal(device.state, 'idle');
});
