// The customer's plans: those awaiting an answer first; a plan page that shows the written
// plan first, then the decision (confirm a window naming the maintenance staff, or propose
// other times in local time), what the customer proposed after a counter, and progress.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html, type Html } from '../html.js';
import { progressBar, statusBadge } from '../layout.js';
import { principalOf, type PortalUser } from '../sessions.js';
import { csrfField, doneFlash, formError, formValues, sendPage, typed, type FormState } from '../kit.js';
import { dataTable } from '../table.js';
import { zonedTime } from '../time.js';
import { windowErrorText } from '../window-errors.js';
import { commissioningFacts, counterProposal, planTitle, waveBars, windowText, writtenPlan } from '../plan-parts.js';
import { customerOf, requireRole } from '../customer-pages.js';
import { actorOf } from '../../auth/principal.js';
import { SluiceError } from '../../errors.js';
import type { Plan } from '../../storage/repositories/records.js';
import { confirmPlan, counterPlan, loadPlan } from '../../services/plans.js';
import { planView, progressTotals } from '../../services/plan-view.js';
import { planCalendar } from '../../services/plan-calendar.js';
import { isEmailAddress } from '../../notifications/address.js';

const flashes: Record<string, string> = {
  confirmed: 'Thank you: the window is confirmed and your maintenance staff are recorded.',
  countered: 'Your proposed times were sent to the vendor, who will propose again.',
};

export default async function customerPlanPages(app: FastifyInstance) {
  const context = app.sluice;
  const { store, options } = context;
  const ownPlan = async (user: PortalUser, id: string) => {
    const plan = await loadPlan(context, id);
    // Another customer's plan is "not found", exactly like one that does not exist.
    if (plan.customer !== user.customer) throw new SluiceError('not_found', 'There is no such plan for your organisation.');
    if (plan.status === 'draft') throw new SluiceError('not_found', 'There is no such plan for your organisation.');
    return plan;
  };

  app.get('/portal', async (request, reply) => {
    const user = requireRole(request, reply, true);
    if (!user) return;
    const now = options.now();
    const order = (status: string) =>
      status === 'proposed' ? 0 : ['confirmed', 'in_progress', 'paused', 'countered'].includes(status) ? 1 : 2;
    const shown = (await store.plans.list({ customer: user.customer! }))
      .filter((plan) => plan.status !== 'draft')
      .sort((a, b) => order(a.status) - order(b.status));
    const zone = (await customerOf(store, user.customer!)).timezone;
    const rows = [];
    for (const plan of shown) {
      const view = await planView(context, plan, now);
      rows.push({
        className: view.overdue ? 'breached' : '',
        cells: [
          html`<a href="/portal/plans/${plan.id}">${await planTitle(store, plan)}</a
            >${plan.status === 'proposed' ? html` <span class="badge proposed">answer needed</span>` : ''}`,
          statusBadge(view.status),
          html`${zonedTime(view.deadline, zone)}${view.overdue ? html` <strong class="overdue">overdue</strong>` : ''}`,
          plan.kind === 'commissioning' ? html`<span class="muted">commissioning</span>` : progressBar(progressTotals(view.progress)),
        ],
      });
    }
    const awaiting = shown.filter((plan) => plan.status === 'proposed').length;
    return sendPage(request, reply, {
      title: 'Plans',
      section: '/portal',
      flash: doneFlash(request, flashes),
      body: html`<h1>Upgrade and commissioning plans</h1>
        ${awaiting ? html`<div class="flash ok" role="status">${awaiting} plan${awaiting > 1 ? 's await' : ' awaits'} your answer.</div>` : ''}
        ${dataTable(['Plan', 'Status', 'Deadline', 'Progress'], rows, { empty: 'No plans yet.' })}`,
    });
  });

  const planPage = async (request: FastifyRequest, reply: FastifyReply, user: PortalUser, plan: Plan, state: FormState | null = null) => {
    const now = options.now();
    const view = await planView(context, plan, now);
    const customer = await customerOf(store, plan.customer);
    const zone = customer.timezone;
    const title = await planTitle(store, plan);
    const document = plan.documentVersion ? await store.plans.document(plan.id, plan.documentVersion) : undefined;
    const answer =
      view.status === 'proposed'
        ? html` <section class="card" aria-labelledby="confirm-title">
              <h2 id="confirm-title">Confirm a window</h2>
              <p>
                Choose one of the proposed windows and name the maintenance staff who will attend. Times are in <strong>${zone}</strong>.
              </p>
              ${formError(state, 'confirm')}
              <form method="post" action="/portal/plans/${view.id}/confirm">
                ${csrfField(request)}
                <fieldset>
                  <legend>Window</legend>
                  ${plan.windows.map((window, index) => html`<label class="choice"><input type="radio" name="window" value="${index}" ${String(index) === typed(state, 'confirm', 'window', '0') ? html`checked` : ''} required /> <span>${windowText(window, index, now, zone)}</span></label>`)}
                </fieldset>
                <label for="maintainer-name">Maintenance staff: name</label
                ><input
                  id="maintainer-name"
                  name="maintainerName"
                  required
                  maxlength="200"
                  autocomplete="name"
                  value="${typed(state, 'confirm', 'maintainerName')}"
                />
                <label for="maintainer-phone">Maintenance staff: phone</label
                ><input
                  id="maintainer-phone"
                  name="maintainerPhone"
                  type="tel"
                  required
                  minlength="3"
                  maxlength="50"
                  autocomplete="tel"
                  value="${typed(state, 'confirm', 'maintainerPhone')}"
                />
                <label for="maintainer-email">Maintenance staff: e-mail (optional, for the reminders 24 h and 1 h before)</label
                ><input
                  id="maintainer-email"
                  name="maintainerEmail"
                  type="email"
                  maxlength="320"
                  autocomplete="email"
                  value="${typed(state, 'confirm', 'maintainerEmail')}"
                />
                <button type="submit">Confirm this window</button>
              </form>
            </section>
            <section class="card" aria-labelledby="counter-form-title">
              <h2 id="counter-form-title">Propose other times</h2>
              <p>Times are in your local time zone, <strong>${zone}</strong>. The deadline is ${zonedTime(view.deadline, zone)}.</p>
              ${formError(state, 'counter')}
              <form method="post" action="/portal/plans/${view.id}/counter">
                ${csrfField(request)}
                <div class="inline">
                  <div>
                    <label for="counter-start">Start (${zone})</label
                    ><input
                      id="counter-start"
                      name="start"
                      type="datetime-local"
                      required
                      value="${typed(state, 'counter', 'start')}"
                      ${state?.form === 'counter' ? html` aria-invalid="true" aria-describedby="counter-error"` : ''}
                    />
                  </div>
                  <div>
                    <label for="counter-end">End (${zone})</label
                    ><input
                      id="counter-end"
                      name="end"
                      type="datetime-local"
                      required
                      value="${typed(state, 'counter', 'end')}"
                      ${state?.form === 'counter' ? html` aria-invalid="true" aria-describedby="counter-error"` : ''}
                    />
                  </div>
                </div>
                <label for="counter-comment">Comment</label
                ><textarea id="counter-comment" name="comment" rows="3" maxlength="5000">${typed(state, 'counter', 'comment')}</textarea>
                <button class="secondary" type="submit">Send these times</button>
              </form>
            </section>`
        : '';
    const confirmation = view.confirmation
      ? html`<section class="card" aria-labelledby="confirmed-title">
          <h2 id="confirmed-title">Confirmed</h2>
          <p>${windowText(plan.windows[view.confirmation.window], view.confirmation.window, now, zone)}</p>
          <p>
            Confirmed by ${view.confirmation.by.replace(/^user:/, '')} on ${zonedTime(view.confirmation.at, zone)}. Maintenance staff:
            <strong>${view.confirmation.maintainer?.name}</strong>
            (${view.confirmation.maintainer?.phone}${view.confirmation.maintainer?.email ? `, ${view.confirmation.maintainer.email}` : ''}).
          </p>
          <p><a href="/portal/plans/${view.id}/calendar.ics">Add to calendar (.ics)</a></p>
        </section>`
      : '';
    const progress: Html =
      plan.kind === 'commissioning'
        ? html`<h2>Commissioning</h2>
            ${commissioningFacts(plan, zone)}`
        : html`<h2>Progress by wave</h2>
            ${waveBars(view)}`;
    return sendPage(
      request,
      reply,
      {
        title,
        section: '/portal',
        flash: state ? null : doneFlash(request, flashes),
        live: ['confirmed', 'in_progress'].includes(view.status),
        body: html`<h1>${title} ${statusBadge(view.status)}</h1>
          <p class="muted">
            ${customer.name} · deadline
            <span class="${view.overdue ? 'overdue' : ''}">${zonedTime(view.deadline, zone)}</span
            >${view.overdue ? html` <strong class="overdue">— overdue</strong>` : ''}
          </p>
          ${document ? writtenPlan(document.html, document.version, `/portal/plans/${view.id}/document`) : ''}
          ${answer}${counterProposal(plan, now, zone, 'you')}${confirmation}
          <div id="live-progress" data-live="5">${progress}</div>`,
      },
      state ? 422 : 200,
    );
  };

  app.get('/portal/plans/:id', async (request, reply) => {
    const user = requireRole(request, reply, true);
    if (!user) return;
    return planPage(request, reply, user, await ownPlan(user, (request.params as { id: string }).id));
  });

  app.get('/portal/plans/:id/document', async (request, reply) => {
    const user = requireRole(request, reply, true);
    if (!user) return;
    const plan = await ownPlan(user, (request.params as { id: string }).id);
    const document = await store.plans.document(plan.id, plan.documentVersion);
    if (!document) throw new SluiceError('not_found', 'This plan has no written version yet.');
    if ((request.query as { format?: string }).format === 'md') return reply.type('text/markdown; charset=utf-8').send(document.markdown);
    return reply.type('text/html; charset=utf-8').send(document.html);
  });

  app.get('/portal/plans/:id/calendar.ics', async (request, reply) => {
    const user = requireRole(request, reply, true);
    if (!user) return;
    const plan = await ownPlan(user, (request.params as { id: string }).id);
    if (plan.confirmedWindow === null) throw new SluiceError('conflict', 'A calendar entry exists once a window is confirmed.');
    return reply
      .type('text/calendar; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="plan-${plan.id}.ics"`)
      .send(await planCalendar(store, plan, options.publicUrl ?? `${request.protocol}://${request.headers.host}`));
  });

  app.post('/portal/plans/:id/confirm', async (request, reply) => {
    const user = requireRole(request, reply, true);
    if (!user) return;
    const plan = await ownPlan(user, (request.params as { id: string }).id);
    const values = formValues(request.body, 200);
    const name = (values.maintainerName ?? '').trim();
    const phone = (values.maintainerPhone ?? '').trim();
    const email = (values.maintainerEmail ?? '').trim();
    const refuse = (message: string) => planPage(request, reply, user, plan, { form: 'confirm', message, values });
    if (!name) return refuse('Name the maintenance staff member who will attend.');
    if (phone.length < 3) return refuse('Give a phone number where the maintenance staff can be reached (at least 3 characters).');
    if (email && !isEmailAddress(email))
      return refuse('The maintenance staff e-mail is not an address (name@example.com); leave it empty for none.');
    const window = Number(values.window);
    if (!Number.isInteger(window) || window < 0 || window >= plan.windows.length)
      return refuse(`Choose one of the proposed windows, 1 to ${plan.windows.length}.`);
    await confirmPlan(
      context,
      plan.id,
      user.customer!,
      { window, maintainer: { name: name.slice(0, 200), phone: phone.slice(0, 50), ...(email ? { email } : {}) } },
      actorOf(principalOf(user)),
    );
    return reply.redirect(`/portal/plans/${plan.id}?done=confirmed`, 303);
  });

  app.post('/portal/plans/:id/counter', async (request, reply) => {
    const user = requireRole(request, reply, true);
    if (!user) return;
    const plan = await ownPlan(user, (request.params as { id: string }).id);
    const values = formValues(request.body, 5000);
    const timezone = (await customerOf(store, user.customer!)).timezone;
    const windows = [{ start: (values.start ?? '').slice(0, 16), end: (values.end ?? '').slice(0, 16), timezone }];
    try {
      await counterPlan(context, plan.id, user.customer!, { windows, comment: values.comment ?? '' }, actorOf(principalOf(user)));
    } catch (error) {
      const text = windowErrorText(error, { zone: timezone, deadline: plan.deadline, now: options.now(), windows });
      if (text === null) throw error;
      return planPage(request, reply, user, plan, { form: 'counter', message: text, values });
    }
    return reply.redirect(`/portal/plans/${plan.id}?done=countered`, 303);
  });
}
