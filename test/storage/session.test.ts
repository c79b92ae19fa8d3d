// The SQL seam (server/storage/sql.ts) behaves alike on SQLite and PostgreSQL: `?`
// placeholders, numbers for counts, savepoints for nested transactions, unique violations
// recognised, and read-modify-write under `forUpdate` serialised. PostgreSQL alone runs
// transactions side by side, on connections of their own.
import t from 'tap';
import { isUniqueViolation, type SqlSession } from '../../server/storage/sql.js';
import { numberPlaceholders } from '../../server/storage/postgres/placeholders.js';
import { postgresText } from '../../server/storage/postgres/session.js';
import { forEachSession } from '../helpers/database.js';

const scratch = 'CREATE TABLE scratch (id TEXT PRIMARY KEY, n INTEGER NOT NULL, note TEXT)';
const ids = async (session: SqlSession) => (await session.all<{ id: string }>('SELECT id FROM scratch ORDER BY id')).map((row) => row.id);

t.test('placeholders: each ? outside quotes and comments is numbered in order', async (t) => {
  t.same(numberPlaceholders('SELECT * FROM t WHERE a = ? AND b IN (?, ?) LIMIT ?'), {
    text: 'SELECT * FROM t WHERE a = $1 AND b IN ($2, $3) LIMIT $4',
    count: 4,
  });
  t.same(numberPlaceholders("SELECT 'what?', ? FROM t"), { text: "SELECT 'what?', $1 FROM t", count: 1 }, 'in a string literal');
  t.same(numberPlaceholders("SELECT 'it''s?', ? "), { text: "SELECT 'it''s?', $1 ", count: 1 }, 'after a doubled quote');
  t.same(numberPlaceholders('SELECT "odd?name", ? FROM t'), { text: 'SELECT "odd?name", $1 FROM t', count: 1 }, 'in a quoted identifier');
  t.same(numberPlaceholders('SELECT ? -- why?\n, ?'), { text: 'SELECT $1 -- why?\n, $2', count: 2 }, 'in a line comment');
  t.same(numberPlaceholders('SELECT /* a ? here */ ?'), { text: 'SELECT /* a ? here */ $1', count: 1 }, 'in a block comment');
  t.same(numberPlaceholders('SELECT $q$ ? $q$, ?'), { text: 'SELECT $q$ ? $q$, $1', count: 1 }, 'in a dollar-quoted body');
  t.same(numberPlaceholders("SELECT 'unterminated ?"), { text: "SELECT 'unterminated ?", count: 0 }, 'an unterminated literal stays text');
  t.equal(postgresText('SELECT ? AS a'), 'SELECT $1 AS a');
  t.equal(postgresText('SELECT ? AS a'), 'SELECT $1 AS a', 'the second time from the cache, the same');
});

forEachSession(t, 'statements with ? placeholders, literals and comments', async (t, session) => {
  await session.run(scratch);
  const inserted = await session.run("INSERT INTO scratch (id, n, note) VALUES (?, ?, 'what? -- not a comment') -- a trailing ? comment", [
    'a',
    1,
  ]);
  t.equal(inserted.changes, 1, 'run reports the rows it changed');
  await session.run('INSERT INTO scratch (id, n, note) VALUES (?, ?, ?)', ['b', 2, null]);
  t.same(await session.get('SELECT id, n, note FROM scratch WHERE id = ?', ['a']), { id: 'a', n: 1, note: 'what? -- not a comment' });
  t.same(await session.all('SELECT id FROM scratch WHERE n > ? AND note IS NULL', [1]), [{ id: 'b' }]);
  t.equal(await session.get('SELECT id FROM scratch WHERE id = ?', ['none']), undefined, 'get: undefined when no row');
  t.equal((await session.run('UPDATE scratch SET n = n + 1 WHERE n >= ?', [1])).changes, 2);
  t.equal((await session.run('DELETE FROM scratch WHERE id = ?', ['none'])).changes, 0);
});

forEachSession(t, 'counts, sums and integer columns come back as numbers', async (t, session) => {
  await session.run(scratch);
  for (const [id, n] of [
    ['a', 1],
    ['b', 2],
    ['c', 40],
  ] as const)
    await session.run('INSERT INTO scratch (id, n) VALUES (?, ?)', [id, n]);
  const row = await session.get<{ count: unknown; total: unknown; largest: unknown }>(
    'SELECT COUNT(*) AS count, SUM(n) AS total, MAX(n) AS largest FROM scratch',
  );
  t.same(row, { count: 3, total: 43, largest: 40 });
  t.equal(typeof row?.count, 'number', 'COUNT(*) is a number, not text');
  const audit = await session.run('INSERT INTO audit (at, actor, action, subject) VALUES (?, ?, ?, ?)', [
    '2026-01-01T00:00:00.000Z',
    'x',
    'y',
    'z',
  ]);
  t.equal(audit.changes, 1);
  const id = (await session.get<{ id: unknown }>('SELECT id FROM audit'))?.id;
  t.equal(typeof id, 'number', 'a BIGINT identity column is a number');
});

forEachSession(t, 'a transaction commits when its work resolves and rolls back when it rejects', async (t, session) => {
  await session.run(scratch);
  t.equal(
    await session.transaction(async (tx) => {
      await tx.run('INSERT INTO scratch (id, n) VALUES (?, ?)', ['kept', 1]);
      return 'done';
    }),
    'done',
    "the work's result is returned",
  );
  await t.rejects(
    session.transaction(async (tx) => {
      await tx.run('INSERT INTO scratch (id, n) VALUES (?, ?)', ['undone', 1]);
      throw new Error('changed my mind');
    }),
    { message: 'changed my mind' },
    "the work's failure is the transaction's",
  );
  t.same(await ids(session), ['kept']);
});

forEachSession(t, 'a nested transaction is a savepoint: its failure undoes only its own writes', async (t, session) => {
  await session.run(scratch);
  await session.transaction(async (tx) => {
    await tx.run('INSERT INTO scratch (id, n) VALUES (?, ?)', ['outer-before', 1]);
    await t.rejects(
      tx.transaction(async (inner) => {
        await inner.run('INSERT INTO scratch (id, n) VALUES (?, ?)', ['inner', 1]);
        throw new Error('inner fails');
      }),
    );
    await tx.transaction(async (inner) => {
      await inner.transaction(async (deeper) => {
        await deeper.run('INSERT INTO scratch (id, n) VALUES (?, ?)', ['deeper', 1]);
      });
    });
    t.same(await ids(tx), ['deeper', 'outer-before'], 'inside, the inner write is gone and the others are seen');
    await tx.run('INSERT INTO scratch (id, n) VALUES (?, ?)', ['outer-after', 1]);
  });
  t.same(await ids(session), ['deeper', 'outer-after', 'outer-before'], 'the outer transaction committed the rest');

  await t.rejects(
    session.transaction(async (tx) => {
      await tx.transaction(async (inner) => {
        await inner.run('INSERT INTO scratch (id, n) VALUES (?, ?)', ['released', 1]);
      });
      throw new Error('outer fails');
    }),
  );
  t.notOk((await ids(session)).includes('released'), 'a released savepoint still rolls back with its transaction');
});

forEachSession(t, 'a unique violation is recognised, keeps its code, and a savepoint lets the transaction go on', async (t, session) => {
  await session.run(scratch);
  await session.run('INSERT INTO scratch (id, n) VALUES (?, ?)', ['a', 1]);
  const failure = await session.run('INSERT INTO scratch (id, n) VALUES (?, ?)', ['a', 2]).catch((error: unknown) => error);
  t.ok(isUniqueViolation(failure), 'isUniqueViolation');
  t.equal(
    (failure as { code?: string }).code,
    session.dialect === 'postgres' ? '23505' : 'SQLITE_CONSTRAINT_PRIMARYKEY',
    "the driver's code is kept",
  );
  t.notOk(
    isUniqueViolation(await session.run('INSERT INTO scratch (id) VALUES (?)', ['b']).catch((error: unknown) => error)),
    'a NOT NULL violation is not a unique one',
  );

  await session.transaction(async (tx) => {
    const duplicate = await tx
      .transaction((inner) => inner.run('INSERT INTO scratch (id, n) VALUES (?, ?)', ['a', 3]))
      .catch((error: unknown) => error);
    t.ok(isUniqueViolation(duplicate));
    await tx.run('INSERT INTO scratch (id, n) VALUES (?, ?)', ['c', 1]);
  });
  t.same(await ids(session), ['a', 'c'], 'the transaction committed after the refused insert');
  t.equal((await session.get<{ n: number }>('SELECT n FROM scratch WHERE id = ?', ['a']))?.n, 1);
});

forEachSession(t, 'read-modify-write under forUpdate: twenty concurrent transactions lose no increment', async (t, session) => {
  await session.run(scratch);
  await session.run('INSERT INTO scratch (id, n) VALUES (?, ?)', ['counter', 0]);
  await Promise.all(
    Array.from({ length: 20 }, () =>
      session.transaction(async (tx) => {
        const row = await tx.get<{ n: number }>(`SELECT n FROM scratch WHERE id = ?${tx.forUpdate}`, ['counter']);
        await new Promise((resolve) => setTimeout(resolve, 2));
        await tx.run('UPDATE scratch SET n = ? WHERE id = ?', [row!.n + 1, 'counter']);
      }),
    ),
  );
  t.equal((await session.get<{ n: number }>('SELECT n FROM scratch WHERE id = ?', ['counter']))?.n, 20);
});

forEachSession(t, 'a conditional update decides once among concurrent transactions', async (t, session) => {
  await session.run(scratch);
  await session.run('INSERT INTO scratch (id, n, note) VALUES (?, ?, ?)', ['plan', 0, 'open']);
  const won = await Promise.all(
    Array.from({ length: 8 }, () =>
      session.transaction(async (tx) => {
        const { changes } = await tx.run('UPDATE scratch SET note = ?, n = n + 1 WHERE id = ? AND note = ?', ['closed', 'plan', 'open']);
        return changes === 1;
      }),
    ),
  );
  t.equal(won.filter(Boolean).length, 1, 'exactly one transaction changed the row');
  t.equal((await session.get<{ n: number }>('SELECT n FROM scratch WHERE id = ?', ['plan']))?.n, 1);
});

forEachSession(t, 'PostgreSQL: transactions run side by side, each on its own connection', async (t, session) => {
  if (session.dialect !== 'postgres') {
    t.equal(session.forUpdate, '', 'SQLite: one writer at a time, no row locks to take');
    return;
  }
  t.equal(session.forUpdate, ' FOR UPDATE');
  await session.run(scratch);
  await session.run('INSERT INTO scratch (id, n) VALUES (?, ?), (?, ?)', ['x', 0, 'y', 0]);
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let lockedX!: () => void;
  const xLocked = new Promise<void>((resolve) => {
    lockedX = resolve;
  });
  const first = session.transaction(async (tx) => {
    await tx.run('UPDATE scratch SET n = 1 WHERE id = ?', ['x']);
    lockedX();
    await held;
  });
  await xLocked;
  // While the first holds row x: another transaction writes row y, and a statement outside
  // any transaction reads, without waiting; neither sees the uncommitted write.
  await session.transaction((tx) => tx.run('UPDATE scratch SET n = 2 WHERE id = ?', ['y']));
  t.equal(
    (await session.get<{ n: number }>('SELECT n FROM scratch WHERE id = ?', ['x']))?.n,
    0,
    "the open transaction's write is not seen",
  );
  let waited = false;
  const second = session.transaction(async (tx) => {
    await tx.get(`SELECT n FROM scratch WHERE id = ?${tx.forUpdate}`, ['x']);
    waited = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.notOk(waited, 'a second transaction locking row x waits for the first');
  release();
  await Promise.all([first, second]);
  t.ok(waited);
  t.same(await session.all('SELECT id, n FROM scratch ORDER BY id'), [
    { id: 'x', n: 1 },
    { id: 'y', n: 2 },
  ]);
});

forEachSession(t, "text with a NUL character: PostgreSQL cannot hold it, so it is the client's error, not a 500", async (t, session) => {
  await session.run(scratch);
  const attempt = session.run('INSERT INTO scratch (id, n, note) VALUES (?, ?, ?)', ['a', 1, 'a\u0000b']).then(
    () => null,
    (error: unknown) => error,
  );
  if (session.dialect === 'sqlite') {
    t.equal(await attempt, null, 'SQLite stores it');
    return;
  }
  t.match(await attempt, { name: 'SluiceError', code: 'bad_request', message: /NUL character/ });
  t.match(
    await session.get('SELECT id FROM scratch WHERE id = ?', ['\u0000']).catch((error: unknown) => error),
    { code: 'bad_request' },
    'in a lookup too',
  );
  await session.transaction(async (tx) => {
    await t.rejects(tx.run('INSERT INTO scratch (id, n) VALUES (?, ?)', ['\u0000', 1]), { code: 'bad_request' });
    await tx.run('INSERT INTO scratch (id, n) VALUES (?, ?)', ['b', 1]);
  });
  t.same(await ids(session), ['b'], 'refused before it reached the server, the transaction went on');
});

forEachSession(t, 'reads outside a transaction, many at once: each gets its own answer, a failing one fails alone', async (t, session) => {
  await session.run(scratch);
  const count = 200;
  await session.run(
    `INSERT INTO scratch (id, n) VALUES ${Array.from({ length: count }, () => '(?, ?)').join(', ')}`,
    Array.from({ length: count }, (_, index) => [`row-${index}`, index]).flat(),
  );
  const reads = Array.from({ length: count }, (_, index) =>
    index % 50 === 7
      ? session.get('SELECT missing_column FROM scratch WHERE id = ?', [`row-${index}`]).then(
          () => 'answered',
          () => 'failed',
        )
      : session.get<{ n: number }>('SELECT n FROM scratch WHERE id = ?', [`row-${index}`]).then((row) => row?.n),
  );
  const answers = await Promise.all(reads);
  t.same(
    answers,
    Array.from({ length: count }, (_, index) => (index % 50 === 7 ? 'failed' : index)),
    'every read its own row; the bad statements failed without taking their neighbours along',
  );
  if (session.dialect !== 'postgres') return;
  // PostgreSQL: those reads went out pipelined on two connections of their own (postgres/
  // pipeline.ts), not one pooled connection each; the pool holds the one that wrote.
  const backends = await session.get<{ n: number }>('SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database()');
  t.ok(backends!.n <= 3, `at most 3 connections to the database (${backends!.n})`);
});

forEachSession(t, 'PostgreSQL: a pipelined connection that dies is replaced by the next reads', async (t, session) => {
  if (session.dialect !== 'postgres') return;
  const pid = async () => (await session.get<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!.pid;
  const first = await pid();
  // Terminated from a pooled connection (a write goes there), as a database restart would.
  await session.run('SELECT pg_terminate_backend(?)', [first]);
  let answered: number | null = null;
  for (let attempt = 0; attempt < 50 && answered === null; attempt++) {
    answered = await pid().catch(() => null);
    if (answered === null) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.ok(answered !== null && answered !== first, 'reads work again, on a new connection');
});

forEachSession(t, 'one read run again and again answers alike each time: its columns, their types, NULLs, no rows', async (t, session) => {
  // On PostgreSQL a prepared read is described once per connection and later runs reuse that
  // description (postgres/described-query.ts): the counts below would come back as text, or
  // rows under the wrong columns, if a later run decoded its rows differently from the first.
  await session.run(scratch);
  await session.run('INSERT INTO scratch (id, n, note) VALUES (?, ?, ?), (?, ?, ?)', ['a', 1, 'one', 'b', 2, null]);
  const read = (id: string) =>
    session.all<{ id: string; n: number; note: string | null; total: number }>(
      'SELECT id, n, note, (SELECT COUNT(*) FROM scratch) AS total FROM scratch WHERE id = ? ORDER BY id',
      [id],
    );
  const expected = {
    a: [{ id: 'a', n: 1, note: 'one', total: 2 }],
    b: [{ id: 'b', n: 2, note: null, total: 2 }],
    none: [],
  };
  const keys = ['a', 'b', 'none'] as const;
  for (let round = 0; round < 5; round++) {
    for (const key of keys) t.strictSame(await read(key), expected[key], `run ${round + 1}, ${key}`);
  }
  // Many at once, so that both pipelined connections run it for the first and later times.
  const answers = await Promise.all(Array.from({ length: 60 }, (_, index) => read(keys[index % 3])));
  t.strictSame(
    answers,
    Array.from({ length: 60 }, (_, index) => expected[keys[index % 3]]),
    'every run, on either connection, decodes its rows as the first did',
  );
  t.equal(typeof answers[0][0].total, 'number', 'a count stays a number');
});
