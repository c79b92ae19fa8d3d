// What a running `sluice server` counted, read from its own /metrics (docs/metrics.md): the
// statements its store ran and how long each took as the server saw it (the storage layer's
// statement observer), its answered check-ins and stored device reports. Measured in the
// process under load, not read off the code.
import type { StatementKind } from '../server/storage/statement-timing.js';

export interface ServerCounts {
  statements: Record<StatementKind, { count: number; seconds: number }>;
  checkins: number;
  events: number;
}

const kinds: readonly StatementKind[] = ['all', 'get', 'run', 'transaction'];

function emptyCounts(): ServerCounts {
  return {
    statements: Object.fromEntries(kinds.map((kind) => [kind, { count: 0, seconds: 0 }])) as ServerCounts['statements'],
    checkins: 0,
    events: 0,
  };
}

/** Samples `name{labels} value` of the Prometheus text format, labels parsed. */
function* samples(text: string): Generator<{ name: string; labels: Record<string, string>; value: number }> {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    yield { name: match[1], labels, value: Number(match[3]) };
  }
}

export function parseServerCounts(text: string): ServerCounts {
  const counts = emptyCounts();
  for (const sample of samples(text)) {
    const kind = sample.labels.kind as StatementKind;
    if (sample.name === 'sluice_db_statement_duration_seconds_count' && kind in counts.statements)
      counts.statements[kind].count += sample.value;
    if (sample.name === 'sluice_db_statement_duration_seconds_sum' && kind in counts.statements)
      counts.statements[kind].seconds += sample.value;
    if (sample.name === 'sluice_checkins_total' && sample.labels.outcome === 'answered') counts.checkins += sample.value;
    if (sample.name === 'sluice_device_events_total') counts.events += sample.value;
  }
  return counts;
}

/** The server's counts now; null when it has no /metrics (a server from before it). */
export async function scrapeServer(baseUrl: string, adminToken: string): Promise<ServerCounts | null> {
  const response = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  return parseServerCounts(await response.text());
}

export function countsBetween(before: ServerCounts, after: ServerCounts): ServerCounts {
  const difference = emptyCounts();
  for (const kind of kinds) {
    difference.statements[kind] = {
      count: after.statements[kind].count - before.statements[kind].count,
      seconds: after.statements[kind].seconds - before.statements[kind].seconds,
    };
  }
  difference.checkins = after.checkins - before.checkins;
  difference.events = after.events - before.events;
  return difference;
}

export function sumCounts(all: readonly ServerCounts[]): ServerCounts {
  const total = emptyCounts();
  for (const counts of all) {
    for (const kind of kinds) {
      total.statements[kind].count += counts.statements[kind].count;
      total.statements[kind].seconds += counts.statements[kind].seconds;
    }
    total.checkins += counts.checkins;
    total.events += counts.events;
  }
  return total;
}

/** Statements run (all, get and run: not counting whole transactions) and their seconds. */
export function statementTotals(counts: ServerCounts): { count: number; seconds: number } {
  const statementKinds = kinds.filter((kind) => kind !== 'transaction');
  return {
    count: statementKinds.reduce((sum, kind) => sum + counts.statements[kind].count, 0),
    seconds: statementKinds.reduce((sum, kind) => sum + counts.statements[kind].seconds, 0),
  };
}
