// Pieces of a plan page that the customer's and the vendor's pages share: the written plan
// shown in the page itself, windows numbered from 1 with their next occurrences in local
// time, progress by wave, and the counter-proposal.
import { html, Html } from './html.js';
import { progressBar, statusBadge } from './layout.js';
import { localTime, zonedTime } from './time.js';
import { dataTable } from './table.js';
import type { Store } from '../storage/store.js';
import type { Plan } from '../storage/repositories/records.js';
import type { PlanView } from '../services/plan-view.js';
import { describeWindow, currentOrNextOccurrence, occurrencesBetween, isAsap, type MaintenanceWindow } from '../domain/windows.js';

export async function planTitle(store: Store, plan: { release: string | null; kind?: string }): Promise<string> {
  if (!plan.release) return 'Commissioning plan';
  const release = await store.releases.get(plan.release);
  if (!release) return 'Upgrade plan';
  const product = await store.products.get(release.product);
  return `Upgrade to ${product?.name ?? release.product} ${release.version}`;
}

/**
 * The frozen written plan, in the page rather than a cut-off frame. Its HTML is the server's
 * own rendering (services/plan-document.ts escapes every value); only the body is taken, so
 * its print stylesheet does not restyle the portal.
 */
export function writtenPlan(documentHtml: string, version: number, link: string): Html {
  const match = /<body>([\s\S]*)<\/body>/.exec(documentHtml);
  return html`<article class="written" aria-labelledby="written-title">
    <p class="legend" id="written-title">
      The written plan, version ${version} · <a href="${link}">open it alone to print</a> · <a href="${link}?format=md">Markdown</a>
    </p>
    ${new Html(match ? match[1] : '')}
  </article>`;
}

/** "Window 2: Every Sunday at 02:00 for 3 hours (Europe/Madrid) · next: Sun 6 Dec 2026, 02:00". */
export function windowText(window: MaintenanceWindow, index: number, now: Date, zone: string): Html {
  const next = isAsap(window) ? null : currentOrNextOccurrence(window, now);
  return html`<strong>Window ${index + 1}:</strong>
    ${describeWindow(window)}${next ? html` <span class="muted">· next: ${localTime(next.start, zone)} to ${localTime(next.end, zone)}</span>` : ''}`;
}

/** The next few occurrences of each window before the deadline, for a preview. */
export function occurrencePreview(windows: MaintenanceWindow[], now: Date, deadline: Date, zone: string, perWindow = 4): Html {
  return html`<ol class="preview">
    ${windows.map((window, index) => {
      const list = isAsap(window) ? [] : occurrencesBetween(window, now, deadline, perWindow);
      return html`<li>
        ${windowText(window, index, now, zone)}${
          list.length
            ? html`<ul>
                ${list.map((occurrence) => html`<li>${localTime(occurrence.start, zone)} – ${localTime(occurrence.end, zone)}</li>`)}
              </ul>`
            : html`<div class="field-error">No occurrence before the deadline (${zonedTime(deadline, zone)}).</div>`
        }
      </li>`;
    })}
  </ol>`;
}

export function waveBars(view: PlanView): Html {
  if (view.kind === 'commissioning') return html``;
  if (view.progress.waves.length === 0)
    return html`<p class="muted">Waves are drawn when the plan is confirmed (${view.progress.total} devices).</p>`;
  return dataTable(
    ['Wave', 'Status', 'Progress'],
    view.progress.waves.map((wave) => [
      view.waves[wave.wave]?.name || `Wave ${wave.wave + 1}`,
      statusBadge(wave.status),
      progressBar(wave),
    ]),
  );
}

/** What the customer proposed instead, with their comment (status countered). */
export function counterProposal(plan: Plan, now: Date, zone: string, who: 'you' | 'customer'): Html {
  if (plan.status !== 'countered') return html``;
  return html`<section class="card" aria-labelledby="counter-title">
    <h2 id="counter-title">${who === 'you' ? 'You proposed other times' : 'The customer proposed other times'}</h2>
    <ul>
      ${plan.windows.map((window, index) => html`<li>${windowText(window, index, now, zone)}</li>`)}
    </ul>
    ${plan.counterComment ? html`<p>Comment: <q>${plan.counterComment}</q></p>` : html`<p class="muted">No comment.</p>`}
    ${who === 'you' ? html`<p>The vendor will propose again; you will be able to answer then.</p>` : ''}
  </section>`;
}

/** A commissioning plan's facts as the page shows them (the document has the same). */
export function commissioningFacts(plan: Plan, zone: string): Html {
  const details = (plan.details ?? {}) as {
    mode?: string;
    date?: string;
    equipment?: { type: string; count: number }[];
    engineers?: { name: string; phone?: string }[];
    services?: string[];
  };
  return html`<dl class="facts">
    <dt>Mode</dt>
    <dd>${details.mode === 'on_site' ? 'On site' : 'Remote'}</dd>
    <dt>Date</dt>
    <dd>${zonedTime(details.date, zone)}</dd>
    <dt>Equipment</dt>
    <dd>${(details.equipment ?? []).map((item) => `${item.count} × ${item.type}`).join(', ')}</dd>
    <dt>Engineers</dt>
    <dd>
      ${(details.engineers ?? []).map((engineer) => (engineer.phone ? `${engineer.name} (${engineer.phone})` : engineer.name)).join(', ')}
    </dd>
    <dt>Services</dt>
    <dd>${(details.services ?? []).join('; ') || '—'}</dd>
  </dl>`;
}
