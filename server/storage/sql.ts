// The one seam between the repositories and a database driver. Repositories write portable
// SQL (the subset SQLite and PostgreSQL share: `?` placeholders, ON CONFLICT, RETURNING,
// timestamps as ISO-8601 text, JSON as text) and each dialect's session runs it. Only
// server/storage/ sees this interface; the rest of the server sees repositories.
import type { StatementObserver } from './statement-timing.js';

export type SqlValue = string | number | bigint | null | Buffer;

export type Dialect = 'sqlite' | 'postgres';

export interface SqlSession {
  readonly dialect: Dialect;
  all<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  get<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /**
   * Runs `work` in one transaction: it commits when `work` resolves and rolls back when it
   * rejects. Called on a session that is already in a transaction, it nests as a savepoint,
   * so an inner failure that the caller catches undoes only the inner writes.
   */
  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Appended to a SELECT that reads rows the transaction will change: row locks on PostgreSQL. */
  readonly forUpdate: string;
}

export interface SqlDatabase extends SqlSession {
  close(): Promise<void>;
  /** Times every statement and transaction from now on (null stops); statement-timing.ts. */
  observeStatements(observer: StatementObserver | null): void;
}

/** A unique or primary-key constraint refused the write, in either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}

/** `a = ? AND b = ?` from the filter's present values, in the order given. */
export function whereClause(filter: Record<string, SqlValue | undefined>): { where: string; values: SqlValue[] } {
  const clauses: string[] = [];
  const values: SqlValue[] = [];
  for (const [column, value] of Object.entries(filter)) {
    if (value === undefined || value === null || value === '') continue;
    clauses.push(`${column} = ?`);
    values.push(value);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', values };
}
