// The written upgrade plan (DESIGN.md: proposing freezes a numbered version; HTML that prints
// well, and Markdown). Every value is escaped: customer text ends up in a browser.
import { DateTime } from 'luxon';
import type { Store } from '../storage/store.js';
import type { Plan } from '../storage/repositories/records.js';
import type { CommissioningDetails } from '../domain/commissioning.js';
import { describeWindow, currentOrNextOccurrence } from '../domain/windows.js';
import { escapeHtml } from '../http/escape.js';

/**
 * Plan details only the vendor reads (issue 18: the automatic draft's "agree the window with
 * the customer" note reached the customer's document). Kept in `details` under this key and
 * never rendered in a document or shown to a customer.
 */
export const internalNotesKey = 'internalNotes';

/** The details a customer may read: everything but the internal notes. */
export function customerDetails(details: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!details) return null;
  const { [internalNotesKey]: _internal, ...rest } = details;
  return Object.keys(rest).length ? rest : null;
}

interface Section {
  title: string;
  paragraphs?: string[];
  items?: string[];
  table?: { head: string[]; rows: string[][] };
}

/** The written plan as it stands at `now`, numbered `version`; reads through `store` (a transaction's, when freezing it). */
export async function renderPlanDocument(store: Store, plan: Plan, version: number, now: Date) {
  const sections = await planSections(store, plan, version, now);
  return { markdown: toMarkdown(sections), html: toHtml(sections) };
}

async function planSections(store: Store, plan: Plan, version: number, now: Date): Promise<Section[]> {
  const customer = (await store.customers.get(plan.customer))!;
  const zone = customer.timezone;
  // The offset is named only where the local time occurs twice (a fall-back night).
  const local = (at: Date) => {
    const time = DateTime.fromJSDate(at, { zone });
    const offset = time.getPossibleOffsets().length > 1 ? `, UTC${time.toFormat('ZZ')}` : '';
    return `${time.toFormat('cccc d LLLL yyyy, HH:mm')} (${zone}${offset})`;
  };
  const windows = plan.windows;
  // Two reads whatever the plan's size: its members, and the customer's devices they are among.
  const members = await store.plans.devices(plan.id);
  const fleet = new Map((members.length ? await store.devices.list({ customer: plan.customer }) : []).map((device) => [device.id, device]));
  const devices = members.flatMap((member) => fleet.get(member.device) ?? []);
  const minutes = Math.ceil(plan.expectedInstallSeconds / 60);
  const header: Section = {
    title: plan.kind === 'commissioning' ? 'Commissioning plan' : 'Upgrade plan',
    table: {
      head: ['', ''],
      rows: [
        ['Customer', `${customer.name} (${customer.id})`],
        ['Plan', plan.id],
        ...(plan.release ? [] : [['Kind', 'Commissioning']]),
        ['Document version', `${version}, issued ${local(now)}`],
        ['Deadline', local(plan.deadline)],
      ],
    },
  };
  const sections: Section[] = [header];
  if (plan.release) {
    const release = (await store.releases.get(plan.release))!;
    const fixes = release.manifest.signed.fixes ?? [];
    const product = await store.products.get(release.product);
    const fixed: string[] = [];
    // The fault's title beside its id, when the fault is this customer's (another's stays an id).
    for (const id of fixes) {
      const fault = await store.faults.get(id);
      fixed.push(fault && fault.customer === plan.customer ? `${id}: ${fault.title}` : id);
    }
    sections.push({
      title: 'Release',
      paragraphs: [
        `${product ? `${product.name} (${release.product})` : release.product} ${release.version}, published ${local(release.publishedAt)}.`,
        release.manifest.signed.notes || 'No release notes.',
      ],
    });
    sections.push({ title: 'Faults fixed', items: fixed.length ? fixed : ['None: this release adds features or improvements.'] });
  }
  const commissioning = plan.kind === 'commissioning' ? (customerDetails(plan.details) as Partial<CommissioningDetails> | null) : null;
  if (commissioning) sections.push(...commissioningSections(commissioning, local));
  if (plan.notes) sections.push({ title: 'Notes', paragraphs: [plan.notes] });
  if (plan.kind !== 'commissioning') {
    sections.push({
      title: 'Devices',
      table: {
        head: ['Device', 'Hardware', 'Current version'],
        rows: devices.map((device) => [device.id, device.hardware, device.version]),
      },
    });
  }
  sections.push({
    title: `Proposed maintenance windows (times in ${zone})`,
    // Numbered from 1, as people count; the API's confirm still takes the index (window 1 is 0).
    items: windows.map((window, index) => {
      const next = currentOrNextOccurrence(window, now);
      const upcoming = next ? `; next: ${local(next.start)} to ${local(next.end)}` : '';
      return `Window ${index + 1}: ${describeWindow(window)}${upcoming}`;
    }),
  });
  if (plan.kind === 'commissioning') {
    sections.push({
      title: 'Expected duration',
      paragraphs: [`The commissioning takes about ${minutes} minutes inside the confirmed window.`],
    });
  } else {
    sections.push({
      title: 'Expected duration and impact',
      paragraphs: [
        `Each device installs in about ${minutes} minutes inside the confirmed window, then restarts into the new version and checks its own health. ` +
          "The device's services are interrupted during the install and restart; the rest of the site keeps running.",
        plan.maxConcurrent
          ? `At most ${plan.maxConcurrent} devices install at the same time.`
          : 'Devices install in waves; a wave that fails beyond its limit pauses the plan.',
      ],
    });
    sections.push({
      title: 'Rollback procedure',
      paragraphs: [
        'Every device keeps the running version in its other slot. If the new version fails its health check, the device switches back to the old slot by itself and reports it; no one needs to be on site for that.',
        'If support decides to stop the upgrade, the plan is paused and no further device installs.',
      ],
    });
  }
  sections.push({
    title: 'Customer duties',
    items: [
      'Confirm one of the proposed windows, or propose other windows, before the deadline.',
      'Name the maintenance staff who will attend the window, with a phone number where they can be reached.',
      plan.kind === 'commissioning'
        ? 'Give the engineers access to the equipment during the window.'
        : 'Keep the devices powered and connected during the window.',
    ],
  });
  if (plan.confirmedAt) {
    const maintainer = plan.maintainer ?? { name: '', phone: '' };
    sections.push({
      title: 'Confirmation',
      paragraphs: [
        `Window ${(plan.confirmedWindow ?? 0) + 1} confirmed by ${plan.confirmedBy} on ${local(plan.confirmedAt)}; maintenance staff: ${maintainer.name} (${maintainer.phone}).`,
      ],
    });
  }
  return sections;
}

/** A commissioning plan reads as one: mode, date, the equipment as a table, services, engineers. */
function commissioningSections(details: Partial<CommissioningDetails>, local: (at: Date) => string): Section[] {
  const date = details.date ? new Date(details.date) : null;
  return [
    {
      title: 'Commissioning',
      table: {
        head: ['', ''],
        rows: [
          ['Mode', details.mode === 'on_site' ? 'On site' : details.mode === 'remote' ? 'Remote' : String(details.mode ?? '')],
          ['Date', date && !Number.isNaN(date.getTime()) ? local(date) : String(details.date ?? '')],
        ],
      },
    },
    {
      title: 'Equipment',
      table: { head: ['Type', 'Number'], rows: (details.equipment ?? []).map((item) => [item.type, String(item.count)]) },
    },
    { title: 'Services', items: (details.services ?? []).length ? details.services! : ['None listed.'] },
    {
      title: 'Engineers',
      table: { head: ['Name', 'Phone'], rows: (details.engineers ?? []).map((engineer) => [engineer.name, engineer.phone ?? '']) },
    },
  ];
}

function toMarkdown(sections: Section[]): string {
  const escape = (text: string) => text.replace(/([\\`*_[\]<>|#])/g, '\\$1');
  const lines: string[] = [];
  sections.forEach((section, index) => {
    lines.push(`${index === 0 ? '#' : '##'} ${escape(section.title)}`, '');
    for (const paragraph of section.paragraphs ?? []) lines.push(escape(paragraph), '');
    for (const item of section.items ?? []) lines.push(`- ${escape(item)}`);
    if (section.items) lines.push('');
    if (section.table) {
      lines.push(`| ${section.table.head.map(escape).join(' | ')} |`, `| ${section.table.head.map(() => '---').join(' | ')} |`);
      for (const row of section.table.rows) lines.push(`| ${row.map(escape).join(' | ')} |`);
      lines.push('');
    }
  });
  return lines.join('\n');
}

function toHtml(sections: Section[]): string {
  const body = sections
    .map((section, index) => {
      const heading = index === 0 ? `<h1>${escapeHtml(section.title)}</h1>` : `<h2>${escapeHtml(section.title)}</h2>`;
      const paragraphs = (section.paragraphs ?? []).map((text) => `<p>${escapeHtml(text)}</p>`).join('');
      const items = section.items ? `<ul>${section.items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>` : '';
      const table = section.table
        ? `<table>${section.table.head.some(Boolean) ? `<thead><tr>${section.table.head.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('')}</tr></thead>` : ''}<tbody>${section.table.rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('')}</tbody></table>`
        : '';
      return `<section>${heading}${paragraphs}${items}${table}</section>`;
    })
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(sections[0].title)}</title><style>
body{font:11pt/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.6rem;border-bottom:2px solid #1b1f24;padding-bottom:.3rem}h2{font-size:1.15rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #c9ced6;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f3f6}td,th{overflow-wrap:anywhere}@media print{body{margin:0;max-width:none}section{break-inside:avoid}}
</style></head><body>${body}</body></html>`;
}
