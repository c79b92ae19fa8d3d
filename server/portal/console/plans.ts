// Plans in the console: the list (filters by customer and status, overdue in words), and a
// plan's page: the counter-proposal when the customer countered, the windows editor to
// propose (again), pause/resume/cancel, the live rollout, internal and customer notes, a
// preview of the written plan for a draft, and the version history.
import { notificationsPanel } from '../notifications-panel.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html, type Html } from '../html.js';
import { progressBar, statusBadge } from '../layout.js';
import { csrfField, doneFlash, formError, formValues, requireStaff, sendPage, type FormState } from '../kit.js';
import { principalOf } from '../sessions.js';
import { dataTable } from '../table.js';
import { zonedTime } from '../time.js';
import { commissioningFacts, counterProposal, occurrencePreview, planTitle, windowText, writtenPlan } from '../plan-parts.js';
import { windowErrorText } from '../window-errors.js';
import { windowsEditor, windowsFromForm, windowValues } from './windows-editor.js';
import { rolloutView } from './rollout.js';
import { versionHistory } from './plan-history.js';
import { actorOf } from '../../auth/principal.js';
import { SluiceError } from '../../errors.js';
import type { Plan } from '../../storage/repositories/records.js';
import { loadPlan, proposePlan, simpleTransition } from '../../services/plans.js';
import { planView, progressTotals } from '../../services/plan-view.js';
import { renderPlanDocument, internalNotesKey } from '../../services/plan-document.js';
import { planStatuses, terminalStatuses } from '../../domain/plans.js';

const flashes: Record<string, string> = {
  drafted: 'Draft saved. Check the written plan below, then propose it to the customer.',
  proposed: 'Proposed: the customer has the written plan and can confirm or counter.',
  pause: 'Plan paused: no further device installs until it is resumed.',
  resume: 'Plan resumed.',
  cancel: 'Plan cancelled.',
};

export default async function planPages(app: FastifyInstance) {
  const context = app.sluice;
  const { store, options } = context;

  app.get('/staff/plans', async (request, reply) => {
    if (!requireStaff(request, reply)) return;
    const query = request.query as { customer?: string; status?: string };
    const now = options.now();
    const customers = await store.customers.list();
    const zones = new Map(customers.map((customer) => [customer.id, customer.timezone]));
    const plans = await store.plans.list({ customer: query.customer || undefined, status: query.status || undefined });
    const rows = [];
    for (const plan of plans) {
      const view = await planView(context, plan, now);
      const zone = zones.get(plan.customer) ?? 'UTC';
      rows.push({
        className: view.overdue ? 'breached' : '',
        cells: [
          html`<a href="/staff/plans/${plan.id}">${await planTitle(store, plan)}</a>`,
          plan.customer,
          statusBadge(view.status),
          html`${zonedTime(view.deadline, zone)}${view.overdue ? html`<div class="overdue">overdue: ${view.overdueReason?.replaceAll('_', ' ')}</div>` : ''}`,
          plan.kind === 'commissioning' ? 'commissioning' : progressBar(progressTotals(view.progress)),
        ],
      });
    }
    return sendPage(request, reply, {
      title: 'Plans',
      section: '/staff/plans',
      live: true,
      body: html`<h1>Plans</h1>
        <p>
          <a href="/staff/plans/new">Draft a plan from a release</a> · <a href="/staff/commissioning/new">Draft a commissioning plan</a>
        </p>
        <form method="get" action="/staff/plans" class="filters">
          <div>
            <label for="filter-customer">Customer</label
            ><select id="filter-customer" name="customer">
              <option value="">all</option>
              ${customers.map((customer) => html`<option value="${customer.id}" ${customer.id === query.customer ? html` selected` : ''}>${customer.name}</option>`)}
            </select>
          </div>
          <div>
            <label for="filter-status">Status</label
            ><select id="filter-status" name="status">
              <option value="">all</option>
              ${planStatuses.map((status) => html`<option value="${status}" ${status === query.status ? html` selected` : ''}>${status.replace('_', ' ')}</option>`)}
            </select>
          </div>
          <button class="secondary" type="submit">Filter</button>
        </form>
        <div id="live-plans" data-live="10">
          ${dataTable(['Plan', 'Customer', 'Status', "Deadline (customer's zone)", 'Progress'], rows, { empty: 'No plans match.' })}
        </div>`,
    });
  });

  const planPage = async (request: FastifyRequest, reply: FastifyReply, plan: Plan, state: FormState | null = null, preview = false) => {
    const now = options.now();
    const view = await planView(context, plan, now);
    const customer = (await store.customers.get(plan.customer))!;
    const zone = customer.timezone;
    const title = await planTitle(store, plan);
    const internal = typeof plan.details?.[internalNotesKey] === 'string' ? (plan.details[internalNotesKey] as string) : '';
    const mayPropose = plan.status === 'draft' || plan.status === 'countered';
    const editorState = state ?? { form: 'propose', message: '', values: windowValues(plan.windows) };
    let previewBlock: Html = html``;
    if (preview && state) {
      previewBlock = html`<section class="card">
        <h3>Next occurrences</h3>
        ${occurrencePreview(windowsFromForm(state.body, state.values, zone), now, plan.deadline, zone)}
      </section>`;
    }
    const propose = mayPropose
      ? html`<section class="card" aria-labelledby="propose-title">
          <h2 id="propose-title">${plan.status === 'countered' ? 'Propose again' : 'Propose to the customer'}</h2>
          ${plan.status === 'countered' ? html`<p>The editor holds the customer's proposal; change it or propose it as it is.</p>` : ''}${formError(state, 'propose')}${previewBlock}
          <form method="post" action="/staff/plans/${plan.id}/propose">
            ${csrfField(request)}${windowsEditor(editorState, 'propose', zone)}
            <div class="actions">
              <button type="submit" name="action" value="preview" class="secondary">Preview the windows</button
              ><button type="submit" name="action" value="propose">Propose these windows</button>
            </div>
          </form>
        </section>`
      : '';
    const step = (event: 'pause' | 'resume' | 'cancel', label: string, secondary = true) =>
      html`<form method="post" action="/staff/plans/${plan.id}/${event}">
        ${csrfField(request)}
        ${event === 'cancel' ? html`<label for="cancel-reason">Reason</label><input id="cancel-reason" name="reason" maxlength="2000" />` : ''}<button
          type="submit"
          ${secondary ? html` class="secondary"` : ''}
        >
          ${label}
        </button>
      </form>`;
    const steps = html`<div class="actions">
      ${['confirmed', 'in_progress'].includes(plan.status) ? step('pause', 'Pause') : ''}${plan.status === 'paused' ? step('resume', 'Resume', false) : ''}
      ${!terminalStatuses.has(plan.status) ? step('cancel', 'Cancel the plan') : ''}
    </div>`;
    const document = plan.documentVersion ? await store.plans.document(plan.id, plan.documentVersion) : undefined;
    const draft = plan.status === 'draft' ? await renderPlanDocument(store, plan, plan.documentVersion + 1, now) : null;
    return sendPage(
      request,
      reply,
      {
        title,
        section: '/staff/plans',
        live: ['confirmed', 'in_progress', 'paused'].includes(plan.status),
        flash: state ? null : doneFlash(request, flashes),
        body: html`<h1>${title} ${statusBadge(view.status)}</h1>
          <p class="muted">
            ${customer.name} (${zone}) · deadline
            ${zonedTime(view.deadline, zone)}${view.overdue ? html` · <strong class="overdue">overdue: ${view.overdueReason?.replaceAll('_', ' ')}</strong>` : ''}${plan.release ? html` · <a href="/staff/releases/${plan.release}">release</a>` : ''}
          </p>
          ${
            internal
              ? html`<section class="card" aria-labelledby="internal-title">
                  <h2 id="internal-title">Internal notes <span class="legend">(vendor only, never shown to the customer)</span></h2>
                  <p>${internal}</p>
                </section>`
              : ''
          }
          ${
            plan.notes
              ? html`<section class="card">
                  <h2>Notes to the customer</h2>
                  <p>${plan.notes}</p>
                </section>`
              : ''
          }
          ${
            plan.kind === 'commissioning'
              ? html`<section class="card">
                  <h2>Commissioning</h2>
                  ${commissioningFacts(plan, zone)}
                </section>`
              : ''
          }
          ${counterProposal(plan, now, zone, 'customer')}
          <section class="card">
            <h2>Windows</h2>
            <ul>
              ${plan.windows.map((window, index) => html`<li>${windowText(window, index, now, zone)}${plan.confirmedWindow === index ? html` <strong class="pill-ok">confirmed</strong>` : ''}</li>`)}
            </ul>
            ${view.confirmation ? html`<p>Confirmed by ${view.confirmation.by.replace(/^user:/, '')} on ${zonedTime(view.confirmation.at, zone)}; maintenance staff ${view.confirmation.maintainer?.name} (${view.confirmation.maintainer?.phone}${view.confirmation.maintainer?.email ? `, ${view.confirmation.maintainer.email}` : ''}).</p>` : ''}${steps}
          </section>
          ${propose}
          <div id="live-rollout" data-live="5">${await rolloutView(store, view, zone)}</div>
          <section class="card">${await notificationsPanel(store, `plan:${plan.id}`, zone)}</section>
          <h2>Written plan: versions</h2>
          ${await versionHistory(store, plan, zone, (version) => `/staff/plans/${plan.id}/document?version=${version}`)}
          ${
            draft
              ? html`<h2>Preview of the written plan</h2>
                  ${writtenPlan(draft.html, plan.documentVersion + 1, `/staff/plans/${plan.id}/document`)}`
              : document
                ? writtenPlan(document.html, document.version, `/staff/plans/${plan.id}/document`)
                : ''
          }`,
      },
      state && !preview ? 422 : 200,
    );
  };

  app.get('/staff/plans/:id', async (request, reply) => {
    if (!requireStaff(request, reply)) return;
    return planPage(request, reply, await loadPlan(context, (request.params as { id: string }).id));
  });

  app.get('/staff/plans/:id/document', async (request, reply) => {
    if (!requireStaff(request, reply)) return;
    const plan = await loadPlan(context, (request.params as { id: string }).id);
    const query = request.query as { version?: string; format?: string };
    const version = Number(query.version ?? plan.documentVersion);
    const document = Number.isInteger(version) && version > 0 ? await store.plans.document(plan.id, version) : undefined;
    if (!document) throw new SluiceError('not_found', 'This plan has no such written version.');
    if (query.format === 'md') return reply.type('text/markdown; charset=utf-8').send(document.markdown);
    return reply.type('text/html; charset=utf-8').send(document.html);
  });

  app.post('/staff/plans/:id/propose', async (request, reply) => {
    const user = requireStaff(request, reply);
    if (!user) return;
    const plan = await loadPlan(context, (request.params as { id: string }).id);
    const zone = (await store.customers.get(plan.customer))!.timezone;
    const values = formValues(request.body);
    const state: FormState = { form: 'propose', message: '', values, body: request.body };
    const windows = windowsFromForm(request.body, values, zone);
    if (values.action === 'preview') return planPage(request, reply, plan, state, true);
    if (windows.length === 0) return planPage(request, reply, plan, { ...state, message: 'Give at least one window.' });
    try {
      await proposePlan(context, plan.id, { windows }, actorOf(principalOf(user)));
    } catch (error) {
      const text = windowErrorText(error, { zone, deadline: plan.deadline, now: options.now(), windows });
      if (text === null) throw error;
      return planPage(request, reply, plan, { ...state, message: text });
    }
    return reply.redirect(`/staff/plans/${plan.id}?done=proposed`, 303);
  });

  for (const event of ['pause', 'resume', 'cancel'] as const) {
    app.post(`/staff/plans/:id/${event}`, async (request, reply) => {
      const user = requireStaff(request, reply);
      if (!user) return;
      const id = (request.params as { id: string }).id;
      const reason = (formValues(request.body, 2000).reason ?? '').trim();
      await simpleTransition(context, id, event, actorOf(principalOf(user)), reason || undefined);
      return reply.redirect(`/staff/plans/${id}?done=${event}`, 303);
    });
  }
}
