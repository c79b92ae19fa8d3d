// SQLite through better-sqlite3, behind the async SqlSession. better-sqlite3 is synchronous
// and one connection serves the whole process, so an async transaction must not let another
// request's statements run inside it between its awaits: a gate admits one transaction at a
// time, and statements outside any transaction wait while one is open.
import type Database from 'better-sqlite3';
import type { SqlDatabase, SqlSession, SqlValue } from '../sql.js';
import { StatementTiming, type StatementObserver } from '../statement-timing.js';

class Gate {
  private tail: Promise<void> = Promise.resolve();
  private holders = 0;
  get open(): boolean {
    return this.holders === 0;
  }
  /** Resolves when no transaction holds the gate. */
  async idle(): Promise<void> {
    while (this.holders > 0) await this.tail;
  }
  async acquire(): Promise<() => void> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    this.holders += 1;
    return () => {
      this.holders -= 1;
      release();
    };
  }
}

let savepoints = 0;

class SqliteSession implements SqlSession {
  readonly dialect = 'sqlite' as const;
  readonly forUpdate = '';
  constructor(
    private readonly db: Database.Database,
    private readonly gate: Gate,
    private readonly inTransaction: boolean,
    readonly timing: StatementTiming,
  ) {}

  private async ready(): Promise<void> {
    if (!this.inTransaction && !this.gate.open) await this.gate.idle();
  }

  async all<Row>(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    await this.ready();
    return this.timing.timeSync('all', () => this.db.prepare(sql).all(...params) as Row[]);
  }

  async get<Row>(sql: string, params: readonly SqlValue[] = []): Promise<Row | undefined> {
    await this.ready();
    return this.timing.timeSync('get', () => this.db.prepare(sql).get(...params) as Row | undefined);
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    await this.ready();
    return { changes: this.timing.timeSync('run', () => this.db.prepare(sql).run(...params).changes) };
  }

  async transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    if (this.inTransaction) {
      const name = `nested_${++savepoints}`;
      this.db.exec(`SAVEPOINT ${name}`);
      try {
        const result = await work(this);
        this.db.exec(`RELEASE ${name}`);
        return result;
      } catch (error) {
        this.db.exec(`ROLLBACK TO ${name}`);
        this.db.exec(`RELEASE ${name}`);
        throw error;
      }
    }
    const release = await this.gate.acquire();
    // Timed once the gate is held: how long the write lock was kept.
    const started = this.timing.start();
    try {
      // IMMEDIATE takes the write lock at once, so two processes on one file wait on
      // busy_timeout instead of failing at their first write.
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(new SqliteSession(this.db, this.gate, true, this.timing));
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    } finally {
      this.timing.finish('transaction', started);
      release();
    }
  }
}

export function createSqliteDatabase(db: Database.Database): SqlDatabase {
  const session = new SqliteSession(db, new Gate(), false, new StatementTiming());
  return Object.assign(session, {
    observeStatements(observer: StatementObserver | null) {
      session.timing.observer = observer;
    },
    async close() {
      await session.transaction(async () => undefined).catch(() => undefined);
      if (db.open) db.close();
    },
  });
}
