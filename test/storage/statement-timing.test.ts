// The statement observer of both SQL sessions (storage/statement-timing.ts), which GET /metrics
// turns into sluice_db_statement_duration_seconds: every statement is told once by the
// session method that ran it, a transaction once as a whole (its savepoints are part of it),
// a failed statement too, and nothing once the observer is removed.
import t from 'tap';
import { forEachSession } from '../helpers/database.js';
import type { StatementKind } from '../../server/storage/statement-timing.js';

forEachSession(t, 'each statement and transaction is timed by its kind', async (t, session) => {
  const seen: { kind: StatementKind; seconds: number }[] = [];
  session.observeStatements((kind, seconds) => seen.push({ kind, seconds }));
  await session.run('CREATE TABLE timed (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
  await session.run('INSERT INTO timed (id, name) VALUES (?, ?)', [1, 'one']);
  await session.get('SELECT name FROM timed WHERE id = ?', [1]);
  await session.all('SELECT * FROM timed');
  t.same(
    seen.map((entry) => entry.kind),
    ['run', 'run', 'get', 'all'],
    'one observation per statement, named by the method',
  );
  t.ok(
    seen.every((entry) => entry.seconds >= 0 && entry.seconds < 60),
    'in seconds',
  );

  seen.length = 0;
  await session.transaction(async (tx) => {
    await tx.run('INSERT INTO timed (id, name) VALUES (?, ?)', [2, 'two']);
    await tx.transaction(async (inner) => inner.get('SELECT COUNT(*) AS n FROM timed'));
  });
  t.same(
    seen.map((entry) => entry.kind),
    ['run', 'get', 'transaction'],
    'statements inside, then the transaction once (the savepoint is part of it)',
  );

  seen.length = 0;
  await t.rejects(session.run('INSERT INTO timed (id, name) VALUES (?, ?)', [1, 'again']));
  await t.rejects(
    session.transaction(async () => {
      throw new Error('rolled back');
    }),
  );
  t.same(
    seen.map((entry) => entry.kind),
    ['run', 'transaction'],
    'a failed statement and a rolled-back transaction are timed too',
  );

  seen.length = 0;
  session.observeStatements(null);
  await session.get('SELECT name FROM timed WHERE id = ?', [1]);
  t.same(seen, [], 'nothing once nobody watches');
});
