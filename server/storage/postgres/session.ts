// PostgreSQL through node-postgres, behind the async SqlSession. Reads outside a transaction
// go out pipelined on a few connections of their own (pipeline.ts); writes outside one take
// any connection of the pool; a transaction holds one pooled connection from BEGIN to COMMIT,
// and a transaction inside it nests as a savepoint on that same connection.
//
// Unlike SQLite, PostgreSQL aborts the whole transaction at the first failed statement: code
// that catches a failure inside a transaction and carries on must run the statement that may
// fail in a nested `transaction` (a savepoint), which undoes only it on either dialect.
import pg from 'pg';
import type { SqlDatabase, SqlSession, SqlValue } from '../sql.js';
import { parseDatabaseUrl, type PostgresConnection } from '../database-url.js';
import { numberPlaceholders } from './placeholders.js';
import { PipelinedReads } from './pipeline.js';
import { SluiceError } from '../../errors.js';
import { StatementTiming, type StatementKind, type StatementObserver } from '../statement-timing.js';

export interface PostgresOptions {
  /** Connections this process may open at once for writes and transactions. */
  poolSize?: number;
  /** Connections of their own for reads outside a transaction, pipelined (pipeline.ts); 0: reads use the pool too. */
  pipelinedConnections?: number;
  /** An idle connection that fails (the server restarted, the database was dropped). */
  onError?: (error: Error) => void;
}

const int8 = 20;
const numeric = 1700;
// COUNT(*), BIGINT columns and SUM() arrive as text by default, because they may exceed 2^53;
// sluice's counts, sizes and ids never do, and SQLite hands out numbers, so both dialects agree.
// Set on this pool only: a global parser would change every other pg user in the process.
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    (oid === int8 || oid === numeric) && format !== 'binary'
      ? Number
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

// Each SQL text is converted once: the repositories' statements are a fixed set. The bound
// keeps a caller that builds texts (IN lists of any length) from growing it without end.
// Each text also gets a name, so that node-postgres prepares it once per connection and
// later runs send only Bind/Execute: PostgreSQL then parses and plans the check-in's joins
// once per connection instead of on every check-in (bench/postgres-rows.ts measures it).
interface ConvertedStatement {
  text: string;
  name: string;
  /**
   * A plain SELECT, which may go on a pipelined connection: a write, or a locking read (FOR
   * UPDATE), may wait for another transaction's lock, and would hold up the statements behind it.
   */
  plainRead: boolean;
}
const converted = new Map<string, ConvertedStatement>();
const cacheLimit = 5000;
let statementNames = 0;

function convertedStatement(sql: string): ConvertedStatement {
  let statement = converted.get(sql);
  if (statement === undefined) {
    statement = {
      text: numberPlaceholders(sql).text,
      name: `sluice_${++statementNames}`,
      plainRead: /^\s*SELECT\b/i.test(sql) && !/\bFOR\s+(UPDATE|SHARE|NO\s+KEY|KEY)\b/i.test(sql),
    };
    if (converted.size >= cacheLimit) converted.clear();
    converted.set(sql, statement);
  }
  return statement;
}

export function postgresText(sql: string): string {
  return convertedStatement(sql).text;
}

/** The pool's settings for a parsed URL: what tests check sslmode against without a TLS server. */
export function poolConfig(connection: PostgresConnection, options: PostgresOptions = {}): pg.PoolConfig {
  return {
    host: connection.host,
    port: connection.port,
    user: connection.user,
    password: connection.password,
    database: connection.database,
    ssl: connection.ssl,
    application_name: connection.applicationName ?? 'sluice',
    connectionTimeoutMillis: connection.connectTimeoutMillis ?? 10_000,
    max: options.poolSize ?? 10,
    types,
  };
}

type Queryable = pg.Pool | pg.PoolClient;

/**
 * PostgreSQL's text cannot hold U+0000 (SQLite's can): such a value, from a path, a query or
 * a body, is refused as the client's mistake before it reaches the server, where it would be
 * a 500 and, inside a transaction, would abort it. No stored row can contain one either.
 */
function refuseNul(params: readonly SqlValue[]): void {
  for (const value of params) {
    if (typeof value === 'string' && value.includes('\u0000')) {
      throw new SluiceError('bad_request', 'text may not contain the NUL character (U+0000)');
    }
  }
}

let savepoints = 0;

class PostgresSession implements SqlSession {
  readonly dialect = 'postgres' as const;
  readonly forUpdate = ' FOR UPDATE';
  constructor(
    private readonly connections: pg.Pool,
    private readonly client: pg.PoolClient | null,
    readonly timing: StatementTiming,
    /** Null inside a transaction, or when reads use the pool. */
    private readonly reads: PipelinedReads | null = null,
  ) {}

  private target(kind: StatementKind, statement: ConvertedStatement): Queryable | PipelinedReads {
    if (this.client) return this.client;
    return this.reads && kind !== 'run' && statement.plainRead ? this.reads : this.connections;
  }

  private async query<Row>(
    kind: StatementKind,
    sql: string,
    params: readonly SqlValue[],
  ): Promise<pg.QueryResult<Row & pg.QueryResultRow>> {
    refuseNul(params);
    // Outside a transaction, the time includes waiting for a free connection of the pool, or
    // for the statements ahead on a pipelined one.
    const statement = convertedStatement(sql);
    const target = this.target(kind, statement);
    const query = { name: statement.name, text: statement.text, values: params as SqlValue[] };
    return this.timing.time(kind, () =>
      target instanceof PipelinedReads ? target.query<Row & pg.QueryResultRow>(query) : target.query<Row & pg.QueryResultRow>(query),
    );
  }

  async all<Row>(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    return (await this.query<Row>('all', sql, params)).rows;
  }

  async get<Row>(sql: string, params: readonly SqlValue[] = []): Promise<Row | undefined> {
    return (await this.query<Row>('get', sql, params)).rows[0];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return { changes: (await this.query('run', sql, params)).rowCount ?? 0 };
  }

  async transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    if (this.client) return this.savepoint(this.client, work);
    const client = await this.connections.connect();
    let broken: Error | undefined;
    // Timed once a connection is held: how long the transaction kept it.
    const started = this.timing.start();
    try {
      await client.query('BEGIN');
      try {
        const result = await work(new PostgresSession(this.connections, client, this.timing));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        // A connection that cannot even roll back is not handed to the next transaction.
        await client.query('ROLLBACK').catch((failure: Error) => {
          broken = failure;
        });
        throw error;
      }
    } finally {
      this.timing.finish('transaction', started);
      client.release(broken);
    }
  }

  private async savepoint<T>(client: pg.PoolClient, work: (session: SqlSession) => Promise<T>): Promise<T> {
    const name = `nested_${++savepoints}`;
    await client.query(`SAVEPOINT ${name}`);
    try {
      const result = await work(this);
      await client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      await client.query(`ROLLBACK TO SAVEPOINT ${name}`);
      await client.query(`RELEASE SAVEPOINT ${name}`);
      throw error;
    }
  }
}

export interface PostgresDatabase extends SqlDatabase {
  readonly dialect: 'postgres';
  /** The pool, for the migration runner, which needs one connection for its whole run. */
  readonly pool: pg.Pool;
}

/** `url`: a libpq-style postgres:// URL (database-url.ts says what its sslmode does). */
export function createPostgresDatabase(url: string, options: PostgresOptions = {}): PostgresDatabase {
  const location = parseDatabaseUrl(url, 'the database URL');
  if (location.kind !== 'postgres') throw new Error('createPostgresDatabase needs a postgres:// URL');
  const config = poolConfig(location.connection, options);
  const pool = new pg.Pool(config);
  const onError = options.onError ?? (() => undefined);
  // Without a listener, an idle connection's failure would be an uncaught 'error' event.
  pool.on('error', onError);
  const pipelined = options.pipelinedConnections ?? 2;
  const reads = pipelined > 0 ? new PipelinedReads(config, pipelined, onError) : null;
  const session = new PostgresSession(pool, null, new StatementTiming(), reads);
  let closing: Promise<void> | undefined;
  return Object.assign(session, {
    pool,
    observeStatements(observer: StatementObserver | null) {
      session.timing.observer = observer;
    },
    close: () => (closing ??= Promise.all([reads?.close(), pool.end()]).then(() => undefined)),
  });
}
