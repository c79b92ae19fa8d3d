// The audit log in the console, filtered by subject, actor, action and time (newest first).
import type { FastifyInstance } from 'fastify';
import { DateTime } from 'luxon';
import { html } from '../html.js';
import { requireStaff, sendPage } from '../kit.js';
import { dataTable } from '../table.js';
import { localTime } from '../time.js';
import { staffZone } from './zone.js';

const pageSize = 200;

/** A link to the page of the audited thing, when the console has one. */
function subjectLink(subject: string) {
  const [kind, id] = subject.split(/:(.*)/s);
  const path = { plan: 'plans', release: 'releases', fault: 'faults', device: 'devices', 'support-session': 'support' }[kind];
  return path && id ? html`<a href="/staff/${path}/${id}">${subject}</a>` : subject;
}

export default async function auditPages(app: FastifyInstance) {
  const { store } = app.sluice;
  app.get('/staff/audit', async (request, reply) => {
    if (!requireStaff(request, reply)) return;
    const zone = staffZone(request);
    const query = request.query as { subject?: string; actor?: string; action?: string; from?: string; to?: string; before?: string };
    const bound = (text: string | undefined) => {
      if (!text) return null;
      const time = DateTime.fromISO(text.slice(0, 16), { zone });
      return time.isValid ? time.toJSDate() : null;
    };
    const from = bound(query.from);
    const to = bound(query.to);
    const before = Number(query.before) || undefined;
    // Subject, actor and action are exact matches in the store; the time range is applied to the page read.
    const records = (
      await store.audit.list({
        subject: query.subject?.trim() || undefined,
        actor: query.actor?.trim() || undefined,
        action: query.action?.trim() || undefined,
        limit: 1000,
        before,
      })
    ).filter((record) => (!from || record.at >= from) && (!to || record.at < to));
    const shown = records.slice(0, pageSize);
    const next = records.length > pageSize ? shown[shown.length - 1].id : null;
    const keep = new URLSearchParams(Object.entries(query).filter(([key, value]) => key !== 'before' && value) as [string, string][]);
    const field = (name: keyof typeof query, label: string, type = 'text', placeholder = '') =>
      html`<div>
        <label for="audit-${name}">${label}</label
        ><input id="audit-${name}" name="${name}" type="${type}" value="${query[name] ?? ''}" placeholder="${placeholder}" />
      </div>`;
    return sendPage(request, reply, {
      title: 'Audit log',
      section: '/staff/audit',
      body: html`<h1>Audit log</h1>
        <form method="get" action="/staff/audit" class="filters">
          ${field('subject', 'Subject', 'text', 'plan:…')}${field('actor', 'Actor', 'text', 'user:…')}${field('action', 'Action', 'text', 'plan.confirm')}
          ${field('from', `From (${zone})`, 'datetime-local')}${field('to', `To (${zone})`, 'datetime-local')}<button
            class="secondary"
            type="submit"
          >
            Filter
          </button>
        </form>
        ${dataTable(
          [`When (${zone})`, 'Actor', 'Action', 'Subject', 'Details'],
          shown.map((record) => [
            localTime(record.at, zone),
            record.actor,
            record.action,
            subjectLink(record.subject),
            record.details ? html`<code>${JSON.stringify(record.details)}</code>` : '',
          ]),
          { empty: 'No entries match.' },
        )}
        ${next ? html`<p><a href="/staff/audit?${keep.toString()}${keep.toString() ? '&' : ''}before=${next}">Older entries</a></p>` : ''}`,
    });
  });
}
