// The SLA report in the console: per class, a chart of faults that met or breached their
// clocks week by week (SVG drawn on the server: no script, prints as it shows), and the
// figures beside it. Verdicts are the domain's (faultView's breaches); this only counts them.
import type { FastifyInstance } from 'fastify';
import { DateTime } from 'luxon';
import { html, type Html } from '../html.js';
import { requireStaff, sendPage } from '../kit.js';
import { dataTable } from '../table.js';
import { zonedTime } from '../time.js';
import { classExplanation } from '../fault-parts.js';
import { staffZone } from './zone.js';
import { faultViews, type FaultView } from '../../services/faults.js';
import { faultClasses } from '../../domain/faults.js';

const weeks = 8;

interface Bucket {
  label: string;
  met: number;
  breached: number;
  open: number;
}

/** Bars of met (green) and breached (red) per week, with the numbers written under them. */
export function slaChart(title: string, buckets: Bucket[]): Html {
  const width = 360;
  const height = 150;
  const top = 16;
  const base = height - 30;
  const most = Math.max(1, ...buckets.map((bucket) => bucket.met + bucket.breached));
  const step = width / buckets.length;
  const bar = Math.min(28, step - 8);
  const bars = buckets.map((bucket, index) => {
    const x = index * step + (step - bar) / 2;
    const metHeight = ((base - top) * bucket.met) / most;
    const breachedHeight = ((base - top) * bucket.breached) / most;
    return html`<g
      ><rect class="met" x="${x.toFixed(1)}" y="${(base - metHeight).toFixed(1)}" width="${bar}" height="${metHeight.toFixed(1)}"></rect>
      <rect
        class="breached"
        x="${x.toFixed(1)}"
        y="${(base - metHeight - breachedHeight).toFixed(1)}"
        width="${bar}"
        height="${breachedHeight.toFixed(1)}"
      ></rect>
      <text x="${(x + bar / 2).toFixed(1)}" y="${base + 13}" text-anchor="middle">${bucket.label}</text
      ><text x="${(x + bar / 2).toFixed(1)}" y="${base + 26}" text-anchor="middle">${bucket.met}/${bucket.breached}</text></g
    >`;
  });
  const summary = buckets.map((bucket) => `${bucket.label}: ${bucket.met} met, ${bucket.breached} breached`).join('; ');
  return html`<svg
    class="chart"
    viewBox="0 0 ${width} ${height}"
    width="${width}"
    height="${height}"
    role="img"
    aria-label="${title}: ${summary}"
  >
    <title>${title}</title>
    <line x1="0" y1="${base}" x2="${width}" y2="${base}" stroke="#8a96a3"></line>
    ${bars}
  </svg>`;
}

export default async function slaPages(app: FastifyInstance) {
  const { store, options } = app.sluice;

  app.get('/staff/sla', async (request, reply) => {
    if (!requireStaff(request, reply)) return;
    const zone = staffZone(request);
    const now = options.now();
    const start = DateTime.fromJSDate(now, { zone })
      .startOf('week')
      .minus({ weeks: weeks - 1 });
    const faults = await faultViews(
      app.sluice,
      await store.faults.list({ reportedFrom: start.toJSDate(), reportedBefore: now, limit: 10_000 }),
      now,
    );
    const decided = (fault: FaultView) => fault.breached || fault.resolvedAt !== null || fault.acknowledgedAt !== null;
    const sections = faultClasses.map((faultClass) => {
      const mine = faults.filter((fault) => fault.class === faultClass);
      const buckets: Bucket[] = Array.from({ length: weeks }, (_, index) => {
        const from = start.plus({ weeks: index });
        const inWeek = mine.filter((fault) => {
          const at = Date.parse(fault.reportedAt);
          return at >= from.toMillis() && at < from.plus({ weeks: 1 }).toMillis();
        });
        return {
          label: from.toFormat('d LLL'),
          met: inWeek.filter((fault) => decided(fault) && !fault.breached).length,
          breached: inWeek.filter((fault) => fault.breached).length,
          open: inWeek.filter((fault) => !decided(fault)).length,
        };
      });
      const breached = mine.filter((fault) => fault.breached);
      return html`<section class="card" aria-labelledby="class-${faultClass}">
        <h2 id="class-${faultClass}">Class ${faultClass}</h2>
        <p class="legend">${classExplanation(faultClass)}</p>
        ${slaChart(`Class ${faultClass}, met and breached per week`, buckets)}
        <p>
          ${mine.length} reported · ${mine.filter((fault) => decided(fault) && !fault.breached).length} met ·
          <span class="${breached.length ? 'breached' : ''}">${breached.length} breached</span> ·
          ${mine.filter((fault) => !decided(fault)).length} still running
        </p>
        ${breached.length ? html`<p>Breached: ${breached.map((fault) => html`<a href="/staff/faults/${fault.id}">${fault.id}</a> `)}</p>` : ''}
      </section>`;
    });
    return sendPage(request, reply, {
      title: 'SLA report',
      section: '/staff/sla',
      body: html`<h1>SLA report</h1>
        <p class="muted">
          Faults reported since ${zonedTime(start.toJSDate(), zone)}, by week (weeks start on Monday in ${zone}). Green: met its clocks;
          red: breached. Under each bar: met/breached.
        </p>
        <div class="grid wide">${sections}</div>
        <h2>Figures</h2>
        ${dataTable(
          ['Class', 'Reported', 'Met', 'Breached'],
          faultClasses.map((faultClass) => {
            const mine = faults.filter((fault) => fault.class === faultClass);
            return [
              faultClass,
              String(mine.length),
              String(mine.filter((fault) => decided(fault) && !fault.breached).length),
              String(mine.filter((fault) => fault.breached).length),
            ];
          }),
        )}
        <p class="legend">The same figures with medians and percentiles: GET /api/v1/sla/report.</p>`,
    });
  });
}
