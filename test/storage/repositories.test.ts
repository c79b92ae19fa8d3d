// The repositories behave alike on both stores: domain objects out (camelCase, Dates, numbers,
// parsed JSON), the same refusals, the same order, and a unit of work that commits or rolls
// back everything written through `tx`.
import t from 'tap';
import { SluiceError } from '../../server/errors.js';
import { hashToken } from '../../server/auth/tokens.js';
import type { Store } from '../../server/storage/store.js';
import type { NewRelease } from '../../server/storage/repositories/releases.js';
import { forEachStore } from '../helpers/database.js';

const now = new Date('2026-11-02T10:00:00.000Z');
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);

async function fleet(store: Store) {
  await store.products.create({ id: 'emu', name: 'Energy management unit' }, now);
  await store.customers.create({ id: 'acme', name: 'Acme', timezone: 'Europe/Madrid' }, now);
}

function release(overrides: Partial<NewRelease> = {}): NewRelease {
  const version = overrides.version ?? '2.0.0';
  return {
    id: `emu-${version}`,
    product: 'emu',
    version,
    sha256: 'a'.repeat(64),
    size: 5 * 1024 ** 3,
    sha1: '',
    md5: '',
    manifest: { signed: { type: 'release', product: 'emu', version }, signatures: [] } as unknown as NewRelease['manifest'],
    publishedAt: now,
    publishedBy: 'rita',
    ...overrides,
  };
}

forEachStore(t, 'products and customers: create, get, list in id order, duplicates refused', async (t, store) => {
  const created = await store.products.create({ id: 'emu', name: 'Energy management unit' }, now);
  t.same(created, { id: 'emu', name: 'Energy management unit', createdAt: now });
  await store.products.create({ id: 'Emu-B', name: 'B' }, later(1));
  await store.products.create({ id: 'emu_a', name: 'A' }, later(2));
  t.same(await store.products.get('emu'), created, 'get returns the domain object, createdAt a Date');
  t.equal(await store.products.get('none'), undefined);
  t.same(
    (await store.products.list()).map((product) => product.id),
    ['Emu-B', 'emu', 'emu_a'],
    'byte order, as SQLite sorts text',
  );
  const duplicate = await store.products.create({ id: 'emu', name: 'again' }, now).catch((error: unknown) => error);
  t.ok(duplicate instanceof SluiceError && duplicate.code === 'already_exists', 'a duplicate is already_exists, not a driver error');

  await store.customers.create({ id: 'zeta', name: 'Zeta', timezone: 'UTC' }, now);
  const acme = await store.customers.create({ id: 'acme', name: 'Acme', timezone: 'Europe/Madrid' }, now);
  t.same(await store.customers.get('acme'), acme);
  t.same(
    (await store.customers.list()).map((customer) => customer.id),
    ['acme', 'zeta'],
  );
  t.same(
    await store.customers.list('zeta'),
    [{ id: 'zeta', name: 'Zeta', timezone: 'UTC', createdAt: now }],
    'a customer user sees only itself',
  );
  await t.rejects(store.customers.create({ id: 'acme', name: 'x', timezone: 'UTC' }, now), { code: 'already_exists' });
});

forEachStore(t, 'devices: created with a token, listed by customer and product, duplicates refused whole', async (t, store) => {
  await fleet(store);
  await store.customers.create({ id: 'beta', name: 'Beta', timezone: 'UTC' }, now);
  const { id, token } = await store.devices.create(
    { id: 'emu-1', customer: 'acme', product: 'emu', hardware: 'emu-hw-1', version: '1.0.0' },
    now,
  );
  t.equal(id, 'emu-1');
  t.match(token, /^d/, 'a device token');
  await store.devices.create({ id: 'emu-2', customer: 'beta', product: 'emu', hardware: 'emu-hw-1', version: '1.0.0' }, now);
  t.same(await store.devices.get('emu-1'), {
    id: 'emu-1',
    customer: 'acme',
    product: 'emu',
    hardware: 'emu-hw-1',
    version: '1.0.0',
    state: null,
    lastSeenAt: null,
    createdAt: now,
  });
  t.same(
    (await store.devices.list()).map((device) => device.id),
    ['emu-1', 'emu-2'],
  );
  t.same(
    (await store.devices.list({ customer: 'beta' })).map((device) => device.id),
    ['emu-2'],
  );
  t.same(await store.devices.list({ customer: 'acme', product: 'other' }), []);
  await t.rejects(store.devices.create({ id: 'emu-1', customer: 'acme', product: 'emu', hardware: 'x', version: '1' }, now), {
    code: 'already_exists',
  });
  const tokens = await store.inspection.rowCounts();
  t.equal(tokens.tokens, 2, 'the refused duplicate left no token behind');
  t.equal(tokens.devices, 2);
  t.not(hashToken(token), token, 'only the hash is kept');
});

forEachStore(t, 'a duplicate inside a unit of work is refused and the rest of the work commits', async (t, store) => {
  await fleet(store);
  await store.transaction(async (tx) => {
    await tx.devices.create({ id: 'emu-1', customer: 'acme', product: 'emu', hardware: 'h', version: '1.0.0' }, now);
    await t.rejects(tx.devices.create({ id: 'emu-1', customer: 'acme', product: 'emu', hardware: 'h', version: '1.0.0' }, now), {
      code: 'already_exists',
    });
    await tx.devices.create({ id: 'emu-2', customer: 'acme', product: 'emu', hardware: 'h', version: '1.0.0' }, now);
    await tx.audit.record({ actor: 'admin', action: 'device.create', subject: 'device:emu-2', at: now });
  });
  t.same(
    (await store.devices.list()).map((device) => device.id),
    ['emu-1', 'emu-2'],
  );
  t.equal(await store.audit.count({ action: 'device.create' }), 1);
});

forEachStore(t, 'a unit of work that fails leaves nothing of any repository', async (t, store) => {
  await t.rejects(
    store.transaction(async (tx) => {
      await tx.products.create({ id: 'emu', name: 'E' }, now);
      await tx.customers.create({ id: 'acme', name: 'A', timezone: 'UTC' }, now);
      await tx.audit.record({ actor: 'admin', action: 'product.create', subject: 'product:emu' });
      t.ok(await tx.products.get('emu'), 'inside, its own writes are seen');
      throw new Error('abandon');
    }),
    { message: 'abandon' },
  );
  t.equal(await store.products.get('emu'), undefined);
  t.same(await store.customers.list(), []);
  t.equal(await store.audit.count({}), 0, 'the audit row rolled back with the change it recorded');
});

forEachStore(t, 'releases: stored and read back whole; a yank happens once; digests and legacy digests', async (t, store) => {
  await fleet(store);
  await store.releases.insert(release());
  await store.releases.insert(release({ version: '2.1.0', sha256: 'b'.repeat(64), size: 10, publishedAt: later(60) }));
  const read = await store.releases.get('emu-2.0.0');
  t.same(read, { ...release(), yankedAt: null, yankReason: null }, 'the manifest parsed, the dates Dates');
  t.equal(read?.size, 5 * 1024 ** 3, 'a size above 2^32 is a number, exact');
  t.ok(await store.releases.versionExists('emu', '2.1.0'));
  t.notOk(await store.releases.versionExists('emu', '9.9.9'));
  t.same(
    (await store.releases.list('emu')).map((entry) => entry.version),
    ['2.1.0', '2.0.0'],
    'newest first',
  );
  t.same(await store.releases.list('other'), []);
  await t.rejects(store.releases.insert(release({ id: 'emu-2.0.0-again' })), { code: 'version_exists' }, 'one product and version once');

  t.equal(await store.releases.markYanked('emu-2.0.0', 'bricks units', later(120)), true);
  t.equal(await store.releases.markYanked('emu-2.0.0', 'again', later(180)), false, 'the second yank changes nothing');
  const yanked = await store.releases.get('emu-2.0.0');
  t.same([yanked?.yankedAt, yanked?.yankReason], [later(120), 'bricks units']);

  t.same([...(await store.releases.digests())].sort(), ['a'.repeat(64), 'b'.repeat(64)]);
  await store.releases.setLegacyDigests('a'.repeat(64), { sha1: '1'.repeat(40), md5: '5'.repeat(32) });
  await store.releases.setLegacyDigests('a'.repeat(64), { sha1: 'x', md5: 'y' });
  const digested = await store.releases.get('emu-2.0.0');
  t.same([digested?.sha1, digested?.md5], ['1'.repeat(40), '5'.repeat(32)], 'filled once, never overwritten');
});

forEachStore(t, 'audit: newest first, filtered, paged by id, counted', async (t, store) => {
  for (let index = 0; index < 5; index += 1) {
    await store.audit.record({
      actor: index % 2 ? 'sam' : 'rita',
      action: index < 3 ? 'plan.propose' : 'plan.confirm',
      subject: `plan:p${index % 2}`,
      details: { index },
      at: later(index),
    });
  }
  await store.audit.record({ actor: 'admin', action: 'user.create', subject: 'user:u' });
  const all = await store.audit.list({});
  t.equal(all.length, 6);
  t.same(
    all.slice(1).map((entry) => entry.details),
    [{ index: 4 }, { index: 3 }, { index: 2 }, { index: 1 }, { index: 0 }],
    'newest first, details parsed',
  );
  t.equal(all[0].details, null, 'no details: null');
  t.equal(typeof all[0].id, 'number', 'ids are numbers');
  t.ok(all[1].at instanceof Date);
  t.same(all[1].at, later(4));
  t.same(
    (await store.audit.list({ subject: 'plan:p1' })).map((entry) => entry.details?.index),
    [3, 1],
  );
  t.same(
    (await store.audit.list({ actor: 'rita', action: 'plan.propose' })).map((entry) => entry.details?.index),
    [2, 0],
  );
  const page = await store.audit.list({ limit: 2 });
  t.same(
    page.map((entry) => entry.id),
    all.slice(0, 2).map((entry) => entry.id),
  );
  t.same(
    (await store.audit.list({ before: page[1].id, limit: 2 })).map((entry) => entry.id),
    all.slice(2, 4).map((entry) => entry.id),
    'the next page',
  );
  t.equal(await store.audit.count({ action: 'plan.propose' }), 3);
  t.equal(await store.audit.count({ subject: 'plan:p0', action: 'plan.propose' }), 2);
  t.equal(await store.audit.count({}), 6);
});

forEachStore(t, 'inspection: tables, row counts and a fingerprint that sees every change', async (t, store) => {
  const tables = await store.inspection.tables();
  for (const table of ['audit', 'devices', 'releases', 'schema_migrations']) t.ok(tables.includes(table), table);
  const empty = await store.inspection.fingerprint({ skipTables: new Set(['audit']) });
  t.notOk('audit' in empty, 'a skipped table is left out');
  await fleet(store);
  const seeded = await store.inspection.fingerprint();
  t.not(seeded.products, empty.products, "an insert changes the table's fingerprint");
  t.equal(seeded.devices, empty.devices, 'an untouched table keeps it');
  t.same(await store.inspection.fingerprint(), seeded, 'reading changes nothing');
  await store.releases.insert(release());
  const skipDigests = { skipColumns: { releases: ['sha1', 'md5'] } };
  const [whole, partial] = [await store.inspection.fingerprint(), await store.inspection.fingerprint(skipDigests)];
  await store.releases.setLegacyDigests('a'.repeat(64), { sha1: '1'.repeat(40), md5: '5'.repeat(32) });
  t.not((await store.inspection.fingerprint()).releases, whole.releases, 'an update changes the fingerprint');
  t.equal((await store.inspection.fingerprint(skipDigests)).releases, partial.releases, 'unless only skipped columns changed');
  t.same(await store.inspection.rowCounts().then((counts) => [counts.products, counts.releases, counts.devices]), [1, 1, 0]);
  const changes = await store.inspection.changeCount();
  if (store.dialect === 'sqlite') t.ok(typeof changes === 'number' && changes >= 4, 'SQLite counts the rows written');
  else t.equal(changes, null, 'PostgreSQL has no such counter');
});
