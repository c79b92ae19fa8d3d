// What is stored, per table, in either dialect: the table names, their row counts and a
// fingerprint of their contents. For tests that prove a refused request stored nothing and
// for tools that report what a database holds; the server's own work never needs it.
import { createHash } from 'node:crypto';
import type { SqlSession } from './sql.js';

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

export interface FingerprintOptions {
  /** Tables left out entirely (logs whose job is to record attempts). */
  skipTables?: ReadonlySet<string>;
  /** Columns left out per table (written behind, a moment after the request). */
  skipColumns?: Readonly<Record<string, readonly string[]>>;
}

export class StoreInspection {
  private schema?: Promise<Map<string, string[]>>;
  constructor(private readonly sql: SqlSession) {}

  /** The application's tables (schema_migrations included), by name. */
  async tables(): Promise<string[]> {
    const rows =
      this.sql.dialect === 'sqlite'
        ? await this.sql.all<{ name: string }>(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
          )
        : await this.sql.all<{ name: string }>(
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
          );
    return rows.map((row) => row.name);
  }

  /** The table's columns, in their declared order. */
  async columns(table: string): Promise<string[]> {
    const rows =
      this.sql.dialect === 'sqlite'
        ? await this.sql.all<{ name: string }>('SELECT name FROM pragma_table_info(?) ORDER BY cid', [table])
        : await this.sql.all<{ name: string }>(
            'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position',
            [table],
          );
    return rows.map((row) => row.name);
  }

  async rowCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const table of await this.tables()) {
      const row = await this.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${quote(table)}`);
      counts[table] = Number(row?.n ?? 0);
    }
    return counts;
  }

  /**
   * A digest of each table's rows, independent of row order: equal digests, equal contents.
   * Rows are sorted as text rather than by a column, since not every table has a key to
   * sort by that both dialects share (SQLite's rowid has no PostgreSQL counterpart). The
   * digests of the two dialects differ in form; they are compared within one store.
   */
  async fingerprint(options: FingerprintOptions = {}): Promise<Record<string, string>> {
    // The schema is read once: a store's tables do not change once it is open and migrated.
    this.schema ??= this.tables().then(async (names) => {
      const schema = new Map<string, string[]>();
      for (const name of names) schema.set(name, await this.columns(name));
      return schema;
    });
    const tables: { table: string; columns: string[] }[] = [];
    for (const [table, columns] of await this.schema) {
      if (options.skipTables?.has(table)) continue;
      tables.push({ table, columns: columns.filter((column) => !options.skipColumns?.[table]?.includes(column)) });
    }
    return this.sql.dialect === 'postgres' ? this.digestsOnServer(tables) : this.digestsHere(tables);
  }

  private async digestsHere(tables: { table: string; columns: string[] }[]): Promise<Record<string, string>> {
    const digests: Record<string, string> = {};
    for (const { table, columns } of tables) {
      const rows = await this.sql.all<Record<string, unknown>>(`SELECT ${columns.map(quote).join(', ')} FROM ${quote(table)}`);
      const lines = rows
        .map((row) =>
          JSON.stringify(
            columns.map((column) => row[column]),
            plain,
          ),
        )
        .sort();
      const hash = createHash('sha256');
      for (const line of lines) hash.update(line).update('\n');
      digests[table] = hash.digest('hex');
    }
    return digests;
  }

  /** One round trip for every table: PostgreSQL hashes the rows itself. */
  private async digestsOnServer(tables: { table: string; columns: string[] }[]): Promise<Record<string, string>> {
    if (tables.length === 0) return {};
    const parts = tables.map(
      ({ table, columns }) =>
        `SELECT ? AS name, COALESCE(md5(string_agg(line, '|' ORDER BY line)), '') AS digest FROM (SELECT ROW(${columns.map(quote).join(', ')})::text AS line FROM ${quote(table)}) AS rows`,
    );
    const rows = await this.sql.all<{ name: string; digest: string }>(
      parts.join(' UNION ALL '),
      tables.map(({ table }) => table),
    );
    return Object.fromEntries(rows.map((row) => [row.name, row.digest]));
  }

  /**
   * Rows written through this connection so far, where the dialect counts them (SQLite's
   * total_changes(), triggers included); null on PostgreSQL, whose counters are per table,
   * shared by every connection and updated late. Equal counts mean nothing was written.
   */
  async changeCount(): Promise<number | null> {
    if (this.sql.dialect !== 'sqlite') return null;
    return Number((await this.sql.get<{ n: number }>('SELECT total_changes() AS n'))?.n ?? 0);
  }
}

function plain(_key: string, value: unknown) {
  return typeof value === 'bigint' ? value.toString() : Buffer.isBuffer(value) ? value.toString('hex') : value;
}
