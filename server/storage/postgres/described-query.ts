// A query for the pipelined read lanes (pipeline.ts) that asks PostgreSQL to describe its rows
// once per connection and statement instead of on every execution.
//
// Why: node-postgres sends Describe with every execution of a prepared statement, so every
// check-in carried the 29 columns' row description back and the driver rebuilt the columns'
// parsers and the row template from it (`addFields`, 4 % of the server's profile samples, with
// the description's parsing and the query config's copy another 2–3 %). A prepared statement's
// columns cannot change under it (PostgreSQL refuses to run it when they would:
// "cached plan must not change result type"), so the first description on a connection is kept
// and the later executions send only Bind, Execute and Sync.
//
// This leans on node-postgres's Query and Result internals (pg 8.x): `prepare`,
// `handleRowDescription`, `hasBeenParsed`, `_result` and `_accumulateRows`.
// test/storage/session.test.ts runs the lanes' reads again and again, with rows and without,
// and with their columns changed, and fails if they drift.
import pg from 'pg';
import type { SqlValue } from '../sql.js';

// What node-postgres's own mapper does with the values a SqlSession passes: text as it is,
// numbers as their decimal text, bytes as bytes.
const wireValue = (value: SqlValue): string | Buffer | null =>
  value === null || typeof value === 'string' || Buffer.isBuffer(value) ? value : String(value);

/** What a row description gives a result: the columns, their parsers, the empty row. */
export interface RowShape {
  fields: pg.FieldDef[];
  parsers: unknown[];
  template: Record<string, null>;
}

interface ResultInternals {
  fields: pg.FieldDef[];
  _parsers: unknown[] | undefined;
  _prebuiltEmptyResultObject: Record<string, null> | null;
}

interface Connection {
  bind(config: object): void;
  execute(config: object): void;
  sync(): void;
  close(config: object): void;
}

interface QueryInternals {
  name: string;
  portal: string;
  values: unknown[];
  binary: boolean | undefined;
  _result: ResultInternals;
  _accumulateRows: boolean;
  hasBeenParsed(connection: Connection): boolean;
  handleError(error: Error, connection: Connection): void;
}

const BaseQuery = pg.Query as unknown as new (
  config: pg.QueryConfig,
  values: undefined,
  callback: (error: Error | null, result: pg.QueryResult) => void,
) => object;

export class DescribedQuery extends BaseQuery {
  constructor(
    config: pg.QueryConfig & { name: string },
    /** The lane's descriptions by statement name: the statements it has prepared. */
    private readonly shapes: Map<string, RowShape>,
    callback: (error: Error | null, result: pg.QueryResult) => void,
  ) {
    super(config, undefined, callback);
  }

  prepare(connection: Connection): void {
    const self = this as unknown as QueryInternals;
    const shape = this.shapes.get(self.name);
    if (shape === undefined || !self.hasBeenParsed(connection)) {
      (pg.Query.prototype as unknown as { prepare(connection: Connection): void }).prepare.call(this, connection);
      return;
    }
    try {
      connection.bind({ portal: self.portal, statement: self.name, values: self.values, binary: self.binary, valueMapper: wireValue });
    } catch (error) {
      // As node-postgres does: a value that cannot be sent fails this query, not the connection.
      connection.close({ type: 'S', name: self.name });
      connection.sync();
      self.handleError(error as Error, connection);
      return;
    }
    const result = self._result;
    result.fields = shape.fields;
    result._parsers = shape.parsers;
    result._prebuiltEmptyResultObject = shape.template;
    self._accumulateRows = true;
    connection.execute({ portal: self.portal });
    connection.sync();
  }

  handleRowDescription(message: unknown): void {
    (pg.Query.prototype as unknown as { handleRowDescription(message: unknown): void }).handleRowDescription.call(this, message);
    const self = this as unknown as QueryInternals;
    const result = self._result;
    this.shapes.set(self.name, {
      fields: result.fields,
      parsers: result._parsers ?? [],
      template: result._prebuiltEmptyResultObject ?? {},
    });
  }
}
