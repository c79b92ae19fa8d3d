// The storage side of issue 15's access control, on both stores: sign-in attempts reserved
// atomically (parallel reservations never pass the limit: on PostgreSQL they run on separate
// connections, so the conditional upsert is what decides), and tokens rotated and revoked so
// that exactly one live token is left, however many rotations race.
import t from 'tap';
import type { Store } from '../../server/storage/store.js';
import { forEachStore } from '../helpers/database.js';

const now = new Date('2026-12-01T10:00:00.000Z');
const minutes = (count: number) => new Date(now.getTime() + count * 60_000);
const windowStart = (at: Date) => new Date(at.getTime() - 15 * 60_000);

async function world(store: Store) {
  await store.products.create({ id: 'emu', name: 'EMU' }, now);
  await store.customers.create({ id: 'acme', name: 'Acme', timezone: 'Europe/Madrid' }, now);
  const device = await store.devices.create({ id: 'emu-1', customer: 'acme', product: 'emu', hardware: 'hw', version: '1.0.0' }, now);
  const user = await store.users.create({ username: 'sam', role: 'support' }, now);
  return { device, user };
}

forEachStore(t, 'sign-in attempts: reserved atomically per key, all or none, given back, forgotten after the window', async (t, store) => {
  const account = { key: 'account:ana', limit: 5 };
  const results = await Promise.all(Array.from({ length: 40 }, () => store.users.reserveSignInAttempts([account], windowStart(now), now)));
  t.equal(results.filter((result) => result === null).length, 5, '40 parallel reservations, exactly 5 granted');
  t.same(
    results.find((result) => result !== null),
    { key: 'account:ana', windowStart: now },
    'a refusal names its key and when its window began',
  );

  const address = { key: 'address:192.0.2.1', limit: 2 };
  t.equal(await store.users.reserveSignInAttempts([{ key: 'account:bob', limit: 5 }, address], windowStart(now), now), null);
  t.equal(await store.users.reserveSignInAttempts([{ key: 'account:cy', limit: 5 }, address], windowStart(now), now), null);
  t.match(
    await store.users.reserveSignInAttempts([{ key: 'account:dee', limit: 1 }, address], windowStart(now), now),
    { key: 'address:192.0.2.1' },
    'the address is full',
  );
  t.equal(
    await store.users.reserveSignInAttempts([{ key: 'account:dee', limit: 1 }], windowStart(now), now),
    null,
    'and the account reserved before it was rolled back: its only attempt is still free',
  );

  await store.users.releaseSignInAttempts(['account:ana']);
  t.equal(
    await store.users.reserveSignInAttempts([account], windowStart(minutes(1)), minutes(1)),
    null,
    'an attempt given back is free again',
  );
  t.not(await store.users.reserveSignInAttempts([account], windowStart(minutes(1)), minutes(1)), null, 'and only that one');
  t.equal(await store.users.reserveSignInAttempts([account], windowStart(minutes(15)), minutes(15)), null, 'a new window counts from zero');

  await store.users.sweepSignInLimits(windowStart(minutes(20)));
  t.equal((await store.inspection.rowCounts()).sign_in_limits, 1, 'counters of ended windows are forgotten; the one begun at 15 min stays');
});

forEachStore(t, 'tokens: a rotation leaves exactly one live token, however many race; revocation leaves none', async (t, store) => {
  const { device, user } = await world(store);
  const rotations = await Promise.all(Array.from({ length: 6 }, (_, index) => store.users.rotateToken(user.id, minutes(index))));
  const live = (await Promise.all(rotations.map(async (rotation) => store.users.principalByToken(rotation!.token)))).filter(Boolean);
  t.equal(live.length, 1, 'one of six racing rotations holds the live token');
  t.equal(await store.users.principalByToken(user.token), null, 'the first token is revoked');
  t.equal(
    rotations.reduce((sum, rotation) => sum + rotation!.revoked, 0),
    6,
    'each revoked the one live before it',
  );
  t.equal(await store.users.rotateToken('no-such-user', now), null);

  const rotated = (await store.devices.rotateToken(device.id, now))!;
  t.match(await store.users.principalByToken(rotated.token), { kind: 'device', id: 'emu-1' });
  t.equal(await store.users.principalByToken(device.token), null, "the device's old token is revoked");
  t.equal(await store.devices.revokeTokens(device.id, now), 1);
  t.equal(await store.users.principalByToken(rotated.token), null, 'revoked: no token works');
  t.equal(await store.devices.revokeTokens(device.id, now), 0, 'nothing left to revoke');
  t.equal(await store.devices.rotateToken('no-such-device', now), null);
});

forEachStore(t, 'passwords: a rehash never overwrites a password changed meanwhile; sessions end per user', async (t, store) => {
  const { user } = await world(store);
  t.ok(await store.users.setPasswordHash(user.id, 'old'));
  t.ok(await store.users.setPasswordHash(user.id, 'changed'));
  t.notOk(await store.users.replacePasswordHash(user.id, 'old', 'rehashed'), 'the rehash of "old" lost');
  t.equal((await store.users.get(user.id))!.passwordHash, 'changed');
  t.ok(await store.users.replacePasswordHash(user.id, 'changed', 'rehashed'));
  await store.users.createSession({ cookieHash: 'a'.repeat(64), userId: user.id, csrf: 'c', expiresAt: minutes(60) }, now);
  await store.users.createSession({ cookieHash: 'b'.repeat(64), userId: user.id, csrf: 'c', expiresAt: minutes(60) }, now);
  t.equal(await store.users.deleteSessionsOf(user.id), 2);
  t.equal(await store.users.sessionByHash('a'.repeat(64)), undefined);
  t.same(
    (await store.users.list({ username: 'sam' })).map((found) => found.id),
    [user.id],
  );
  t.same(await store.users.list({ username: 'nobody' }), []);
});
