// Reads outside a transaction go out on a few pipelined connections (node-postgres's
// `pipeline` mode) instead of taking a pooled connection each: a statement is written behind
// the ones still in flight on its connection, without waiting for their answers.
//
// Why: through the pool, every statement is a checkout, a write that wakes an idle backend,
// a wait, and a release; on a machine whose cores are shared (the check-in benchmark) that
// cost the server about 240 µs of CPU per statement and the pool's 10 connections ran one
// statement each at a time. Pipelined on two connections, the same check-in read cost about
// 60 µs and ran three times as many per second (BENCHMARKS.md, "PostgreSQL"): a busy backend
// finds the next statement already in its socket, and answers arrive several to a read.
//
// Only reads: a read never waits for a row lock (a locking read, FOR UPDATE, stays on the
// pool), so one statement cannot hold up the others queued behind it on its connection for
// longer than it takes to run. Writes and transactions stay on the pool.
//
// The statements of one turn of the event loop go out in one write: a lane's socket is corked
// at its first statement of the turn and uncorked when the turn's I/O callbacks have run
// (setImmediate). Check-ins arrive one HTTP request per I/O callback, so without it every
// statement was a `writev` of its own, the largest single cost in the server's profile
// (37 % of its samples: on loopback the sender's write does the receiver's wake-up too).
import pg from 'pg';
import type { Writable } from 'node:stream';
import { DescribedQuery, type RowShape } from './described-query.js';

interface Lane {
  client: pg.Client;
  /** Settles once the connection is open; rejects when it could not be. */
  ready: Promise<pg.Client>;
  /** Statements sent on it and not yet answered: a new one goes to the least busy lane. */
  inFlight: number;
  /** It failed or ended: the next statement opens a new connection in its place. */
  broken: boolean;
  /** Its socket holds this turn's statements until the turn ends. */
  corked: boolean;
  /** The row descriptions of the statements prepared on it (described-query.ts). */
  shapes: Map<string, RowShape>;
}

// node-postgres's socket; its public API has no way to batch the writes of several queries.
const socketOf = (client: pg.Client) => (client as unknown as { connection: { stream: Writable } }).connection.stream;

export class PipelinedReads {
  private readonly lanes: (Lane | null)[];
  private closing: Promise<void> | undefined;

  constructor(
    private readonly config: pg.ClientConfig,
    connections: number,
    private readonly onError: (error: Error) => void,
  ) {
    this.lanes = Array.from({ length: connections }, () => null);
  }

  async query<Row extends pg.QueryResultRow>(query: pg.QueryConfig & { name: string }): Promise<pg.QueryResult<Row>> {
    if (this.closing) throw new Error('the database is closed');
    const lane = this.pick();
    lane.inFlight += 1;
    try {
      const client = await lane.ready;
      this.holdForTurn(lane, client);
      return await new Promise<pg.QueryResult<Row>>((resolve, reject) => {
        client.query(
          new DescribedQuery(query, lane.shapes, (error, result) =>
            error ? reject(error) : resolve(result as pg.QueryResult<Row>),
          ) as unknown as pg.Submittable,
        );
      });
    } finally {
      lane.inFlight -= 1;
    }
  }

  private holdForTurn(lane: Lane, client: pg.Client): void {
    if (lane.corked) return;
    const socket = socketOf(client);
    lane.corked = true;
    socket.cork();
    setImmediate(() => {
      lane.corked = false;
      socket.uncork();
    });
  }

  /** An idle open lane, else a new connection while there is room, else the least busy lane. */
  private pick(): Lane {
    let best: Lane | null = null;
    let free = -1;
    for (let index = 0; index < this.lanes.length; index++) {
      const lane = this.lanes[index];
      if (lane === null || lane.broken) {
        if (free < 0) free = index;
      } else if (best === null || lane.inFlight < best.inFlight) best = lane;
    }
    if (free >= 0 && (best === null || best.inFlight > 0)) return (this.lanes[free] = this.open());
    return best!;
  }

  private open(): Lane {
    const client = new pg.Client({ ...this.config, pipeline: true } as pg.ClientConfig);
    const lane: Lane = { client, ready: client.connect().then(() => client), inFlight: 0, broken: false, corked: false, shapes: new Map() };
    // Whoever picked the lane sees a failed connect through `ready`; this only marks it.
    lane.ready.catch(() => {
      lane.broken = true;
    });
    // Without a listener, a connection that fails while idle would be an uncaught 'error'.
    client.on('error', (error: Error) => {
      lane.broken = true;
      this.onError(error);
    });
    client.on('end', () => {
      lane.broken = true;
    });
    return lane;
  }

  close(): Promise<void> {
    this.closing ??= Promise.all(this.lanes.map((lane) => lane && lane.ready.then((client) => client.end()).catch(() => undefined))).then(
      () => undefined,
    );
    return this.closing;
  }
}
