// resolveLocal remembers what it resolved (server/domain/windows.ts): a remembered answer must
// be the answer, a caller's change to a returned Date must not reach the next caller, and the
// memory is bounded (cleared when full) without changing any answer.
import t from 'tap';
import { DateTime } from 'luxon';
import { resolveLocal } from '../../server/domain/windows.js';

const naive = (local: string) => DateTime.fromISO(local, { zone: 'UTC' }).toMillis();

t.test('the same wall time in the same zone resolves to the same instant, in a fresh Date each time', async (t) => {
  const first = resolveLocal(naive('2026-10-25T02:30'), 'Europe/Madrid');
  t.equal(first.toISOString(), '2026-10-25T00:30:00.000Z', 'fall-back night: the first occurrence');
  first.setTime(0);
  t.equal(resolveLocal(naive('2026-10-25T02:30'), 'Europe/Madrid').toISOString(), '2026-10-25T00:30:00.000Z', 'not the mutated one');
  t.equal(
    resolveLocal(naive('2026-03-29T02:30'), 'Europe/Madrid').toISOString(),
    '2026-03-29T01:00:00.000Z',
    'spring-forward gap: the first instant after it',
  );
  t.equal(
    resolveLocal(naive('2026-10-25T02:30'), 'America/New_York').toISOString(),
    '2026-10-25T06:30:00.000Z',
    'the zone is part of what is remembered',
  );
});

t.test('answers stay right past the memory limit (it is cleared, not trusted)', async (t) => {
  const start = naive('2026-01-01T00:00');
  const expected = (minutes: number) =>
    DateTime.fromMillis(start + minutes * 60_000, { zone: 'UTC' })
      .setZone('Asia/Shanghai', { keepLocalTime: true })
      .toUTC()
      .toISO();
  for (let minutes = 0; minutes < 25_000; minutes += 1) {
    const got = resolveLocal(start + minutes * 60_000, 'Asia/Shanghai').toISOString();
    if (got !== expected(minutes)) {
      t.fail(`minute ${minutes}: ${got} is not ${expected(minutes)}`);
      return;
    }
  }
  // Resolved again after clears: still the same.
  t.equal(resolveLocal(start, 'Asia/Shanghai').toISOString(), expected(0));
  t.pass('25,000 wall times in a zone without transitions resolved as luxon does');
});
