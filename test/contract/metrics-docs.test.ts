// docs/metrics.md lists exactly the metrics GET /metrics exposes, both ways: every metric of
// the registry is in the page's table with its type and its labels, and every row of the
// table is a metric the server has.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '../helpers/server.js';
import { parseExposition } from '../helpers/prometheus.js';

const page = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'metrics.md'), 'utf8');

/** The rows of the table under "## Every metric": name → type and labels. */
function documented(): Map<string, { type: string; labels: string[] }> {
  const section = page.split(/^## Every metric$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = new Map<string, { type: string; labels: string[] }>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const name = /^`([a-z_:]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!name) continue;
    rows.set(name, { type: cells[2], labels: [...cells[3].matchAll(/`([a-z_]+)`/g)].map((match) => match[1]).sort() });
  }
  return rows;
}

t.test('docs/metrics.md and the registry list the same metrics, types and labels', async (t) => {
  const server = await startTestServer(t);
  const scraped = await server.call('GET', '/metrics', server.adminToken);
  t.equal(scraped.status, 200);
  const exposed = parseExposition(scraped.body).types;
  const registry = server.app.sluice.metrics!.registry;
  const labelsOf = new Map(
    registry
      .getMetricsAsArray()
      .map((metric) => [metric.name, [...((metric as unknown as { labelNames: string[] }).labelNames ?? [])].sort()]),
  );
  const rows = documented();
  t.ok(rows.size >= 10, `${rows.size} metrics documented`);
  t.same([...exposed.keys()].sort(), [...labelsOf.keys()].sort(), 'GET /metrics shows every metric of the registry');
  for (const [name, type] of exposed) {
    const row = rows.get(name);
    t.ok(row, `${name} is documented`);
    if (!row) continue;
    t.equal(row.type, type, `${name} is documented as a ${type}`);
    t.same(row.labels, labelsOf.get(name), `${name} is documented with its labels`);
  }
  for (const name of rows.keys()) t.ok(exposed.has(name), `documented ${name} is exposed`);
});
