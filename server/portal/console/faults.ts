// The faults queue: open faults ordered by the nearest due time, each with "due in" /
// "overdue by" and its class's clock; a fault's page to acknowledge (processing started) and
// resolve with the resolution text, linked to the release that fixes it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../html.js';
import { statusBadge } from '../layout.js';
import { csrfField, doneFlash, formError, formValues, requireStaff, sendPage, typed, type FormState } from '../kit.js';
import { principalOf } from '../sessions.js';
import { dataTable } from '../table.js';
import { zonedTime } from '../time.js';
import { acknowledgeCell, classExplanation, clockNote, questionList, resolveCell } from '../fault-parts.js';
import { askQuestion } from '../../services/fault-questions.js';
import { contractTerms } from '../../domain/contract-terms.js';
import { staffZone } from './zone.js';
import { actorOf } from '../../auth/principal.js';
import { SluiceError } from '../../errors.js';
import { notificationsPanel } from '../notifications-panel.js';
import { faultViews, takeFaultStep, type FaultView } from '../../services/faults.js';

const flashes = {
  acknowledge: 'Acknowledged: processing started.',
  resolve: 'Resolved; the customer sees the resolution.',
  close: 'Closed.',
  question: 'Question sent to the customer: the clock is paused until it is answered.',
};

/** The next clock that runs out: processing start while unacknowledged, else resolution. */
function nextDue(fault: FaultView): number {
  if (!fault.acknowledgedAt && !fault.resolvedAt) return Date.parse(fault.due.acknowledgeBy);
  if (!fault.resolvedAt && fault.due.resolveBy) return Date.parse(fault.due.resolveBy);
  return Number.POSITIVE_INFINITY;
}

export default async function faultPages(app: FastifyInstance) {
  const context = app.sluice;
  const { store, options } = context;

  app.get('/staff/faults', async (request, reply) => {
    if (!requireStaff(request, reply)) return;
    const zone = staffZone(request);
    const now = options.now();
    const faults = (await faultViews(context, await store.faults.list({ unclosed: true, limit: 1000 }), now))
      .filter((fault) => fault.status !== 'resolved')
      .sort((a, b) => nextDue(a) - nextDue(b));
    return sendPage(request, reply, {
      title: 'Faults',
      section: '/staff/faults',
      live: true,
      body: html`<h1>Faults queue</h1>
        <p class="muted">
          Open faults, nearest due time first. Times in ${zone} (<a href="?zone=Europe/Madrid">Europe/Madrid</a> ·
          <a href="?zone=UTC">UTC</a>).
        </p>
        <div id="live-faults" data-live="10">
          ${dataTable(
            ['Fault', 'Customer', 'Class', 'Status', 'Processing starts', 'Resolution'],
            faults.map((fault) => ({
              className: fault.breached ? 'breached' : '',
              cells: [
                html`<a href="/staff/faults/${fault.id}">${fault.id}</a>:
                  ${fault.title}${fault.breached ? html`<div class="breached">breached</div>` : ''}`,
                fault.customer,
                html`${fault.class} <span class="legend">(${fault.severity})</span>`,
                statusBadge(fault.status),
                html`${acknowledgeCell(fault, now, zone)}${clockNote(fault)}`,
                resolveCell(fault, now, zone),
              ],
            })),
            { empty: 'No open faults.' },
          )}
        </div>`,
    });
  });

  const faultPage = async (request: FastifyRequest, reply: FastifyReply, id: string, state: FormState | null = null) => {
    const zone = staffZone(request);
    const now = options.now();
    const record = await store.faults.get(id);
    if (!record) throw new SluiceError('not_found', 'There is no such fault.');
    const [fault] = await faultViews(context, [record], now);
    const fix = fault.fixRelease ? await store.releases.get(fault.fixRelease) : undefined;
    const terms = contractTerms((await store.customers.contractTerms([fault.customer])).get(fault.customer));
    const form = (event: 'acknowledge' | 'resolve' | 'close', label: string, extra = html``) =>
      html`<form method="post" action="/staff/faults/${fault.id}/${event}">
        ${csrfField(request)}${extra}<button type="submit">${label}</button>
      </form>`;
    const actions = html`${fault.status === 'open' ? form('acknowledge', 'Acknowledge: processing starts now') : ''}
    ${['open', 'acknowledged', 'fix_available'].includes(fault.status) ? html`${formError(state, 'resolve')}${form('resolve', 'Resolve', html`<label for="resolution">Resolution (shown to the customer)</label><textarea id="resolution" name="resolution" rows="3" required maxlength="5000">${typed(state, 'resolve', 'resolution')}</textarea>`)}` : ''}
    ${fault.status === 'resolved' ? form('close', 'Close') : ''}`;
    const waiting = ['open', 'acknowledged', 'fix_available'].includes(fault.status);
    const ask = waiting
      ? html`${formError(state, 'question')}
          <form method="post" action="/staff/faults/${fault.id}/questions">
            ${csrfField(request)}<label for="question">Ask the customer (the clock pauses until they answer)</label
            ><textarea id="question" name="text" rows="3" required maxlength="5000">${typed(state, 'question', 'text')}</textarea>
            <button type="submit">Ask</button>
          </form>`
      : html``;
    return sendPage(
      request,
      reply,
      {
        title: `Fault ${fault.id}`,
        section: '/staff/faults',
        flash: state ? null : doneFlash(request, flashes),
        body: html`<h1>${fault.id}: ${fault.title} ${statusBadge(fault.status)}</h1>
          ${fault.breached ? html`<div class="flash error" role="status">A contractual clock was breached.</div>` : ''}
          <section class="card">
            <dl class="facts">
              <dt>Customer</dt>
              <dd>${fault.customer}</dd>
              <dt>Device</dt>
              <dd>${fault.device ? html`<a href="/staff/devices/${fault.device}">${fault.device}</a>` : '—'}</dd>
              <dt>Class</dt>
              <dd>${fault.class} (${fault.severity}): ${classExplanation(fault.class, terms)}</dd>
              <dt>Reported</dt>
              <dd>${zonedTime(fault.reportedAt, zone)} by ${fault.reportedBy} (${fault.source})</dd>
              <dt>Processing starts</dt>
              <dd>${acknowledgeCell(fault, now, zone)}${clockNote(fault)}</dd>
              <dt>Resolution</dt>
              <dd>${resolveCell(fault, now, zone)}</dd>
              <dt>Fixed by</dt>
              <dd>
                ${fix ? html`<a href="/staff/releases/${fix.id}">${fix.product} ${fix.version}</a>` : (fault.fixRelease ?? 'no release yet')}
              </dd>
              ${
                fault.plan
                  ? html`<dt>Plan</dt>
                      <dd><a href="/staff/plans/${fault.plan}">${fault.plan}</a></dd>`
                  : ''
              }
            </dl>
            ${
              fault.description
                ? html`<h2>Description</h2>
                    <pre>${fault.description}</pre>`
                : ''
            }
          </section>
          <section class="card">
            <h2>Next step</h2>
            ${actions}
          </section>
          <section class="card">
            <h2>Questions to the customer</h2>
            ${fault.questions.length ? questionList(fault, zone) : html`<p class="muted">None asked.</p>`} ${ask}
          </section>
          <section class="card">${await notificationsPanel(store, `fault:${fault.id}`, zone)}</section>
          <p><a href="/staff/faults">Back to the queue</a></p>`,
      },
      state ? 422 : 200,
    );
  };

  app.get('/staff/faults/:id', async (request, reply) => {
    if (!requireStaff(request, reply)) return;
    return faultPage(request, reply, (request.params as { id: string }).id);
  });

  app.post('/staff/faults/:id/questions', async (request, reply) => {
    const user = requireStaff(request, reply);
    if (!user) return;
    const id = (request.params as { id: string }).id;
    const values = formValues(request.body, 5000);
    const text = (values.text ?? '').trim();
    if (!text) return faultPage(request, reply, id, { form: 'question', message: 'Write the question for the customer.', values });
    const fault = await store.faults.get(id);
    if (!fault) throw new SluiceError('not_found', 'There is no such fault.');
    await askQuestion(context, fault, text, actorOf(principalOf(user)));
    return reply.redirect(`/staff/faults/${id}?done=question`, 303);
  });

  for (const event of ['acknowledge', 'resolve', 'close'] as const) {
    app.post(`/staff/faults/:id/${event}`, async (request, reply) => {
      const user = requireStaff(request, reply);
      if (!user) return;
      const id = (request.params as { id: string }).id;
      const values = formValues(request.body, 5000);
      const resolution = (values.resolution ?? '').trim();
      if (event === 'resolve' && !resolution)
        return faultPage(request, reply, id, {
          form: 'resolve',
          message: 'Write the resolution: what was done, in words the customer understands.',
          values,
        });
      await takeFaultStep(context, id, event, actorOf(principalOf(user)), event === 'resolve' ? { resolution } : {});
      return reply.redirect(`/staff/faults/${id}?done=${event}`, 303);
    });
  }
}
