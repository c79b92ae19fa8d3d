// The customer's pages, scoped to their own customer: plans awaiting an answer first, the
// written plan, confirm (naming maintenance staff) or counter, devices, faults, consent.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import { html, type Html } from './html.js';
import { page, progressBar, statusBadge } from './layout.js';
import { refusal } from './plugin.js';
import { principalOf, type PortalUser } from './sessions.js';
import { actorOf } from '../auth/principal.js';
import { SluiceError } from '../errors.js';
import type { Store } from '../storage/store.js';
import type { Customer } from '../storage/repositories/records.js';
import { confirmPlan, counterPlan, loadPlan } from '../services/plans.js';
import { planView, progressTotals, type PlanView } from '../services/plan-view.js';
import { planCalendar } from '../services/plan-calendar.js';
import { describeWindow, currentOrNextOccurrence, type MaintenanceWindow } from '../domain/windows.js';
import { faultView, openFault } from '../services/faults.js';
import { parseFaultClass, faultClasses } from '../domain/faults.js';
import { sessionView, decideSession, listSessions } from '../services/support-sessions.js';
import { defaultConsentHours } from '../domain/support-sessions.js';

const flashes: Record<string, string> = {
  confirmed: 'Thank you: the window is confirmed and your maintenance staff are recorded.',
  countered: 'Your proposed times were sent to the vendor, who will propose again.',
  reported: 'Your fault report was received. The due times are shown below.',
  consent: 'Consent recorded: the device may upload its diagnostics until the consent expires.',
  refuse: 'Refused: the device will not upload anything for this request.',
  withdraw: 'Consent withdrawn.',
};

export function requireRole(request: FastifyRequest, reply: FastifyReply, customer: boolean): PortalUser | null {
  if (!request.portal) { reply.redirect('/login'); return null; }
  const isCustomer = request.portal.user.role === 'customer';
  if (isCustomer !== customer) { refusal(reply, request, 403, 'Not for this account', 'This page is not available to your account.'); return null; }
  return request.portal.user;
}

export const localTime = (time: Date | string | null, zone: string) => {
  if (!time) return '';
  const instant = time instanceof Date ? DateTime.fromJSDate(time, { zone }) : DateTime.fromISO(time, { zone });
  return instant.toFormat('ccc d LLL yyyy, HH:mm');
};

export async function planTitle(store: Store, plan: { release: string | null }): Promise<string> {
  if (!plan.release) return 'Commissioning plan';
  const release = await store.releases.get(plan.release);
  return release ? `Upgrade to ${release.product} ${release.version}` : 'Upgrade plan';
}

/** The signed-in customer's own record: its name and time zone. */
export async function customerOf(store: Store, id: string): Promise<Customer> {
  const customer = await store.customers.get(id);
  if (!customer) throw new SluiceError('not_found', 'Your organisation is not known here.');
  return customer;
}

export function waveBars(view: PlanView): Html {
  if (view.progress.waves.length === 0) return html`<p class="muted">Waves are drawn when the plan is confirmed (${view.progress.total} devices).</p>`;
  return html`<table><thead><tr><th>Wave</th><th>Status</th><th>Progress</th></tr></thead><tbody>${view.progress.waves.map((wave) => html`
<tr><td>${(view.waves[wave.wave]?.name) || `Wave ${wave.wave + 1}`}</td><td>${statusBadge(wave.status)}</td><td>${progressBar(wave)}</td></tr>`)}</tbody></table>`;
}

export default async function customerPages(app: FastifyInstance) {
  const context = app.sluice;
  const { store, options } = context;
  const send = (reply: FastifyReply, request: FastifyRequest, title: string, body: Html) =>
    reply.type('text/html; charset=utf-8').send(page({ title, user: request.portal!.user, csrf: request.portal!.csrf, flash: flashFor(request), body }));
  const flashFor = (request: FastifyRequest) => {
    const key = (request.query as Record<string, string>)?.done;
    return key && flashes[key] ? { kind: 'ok' as const, text: flashes[key] } : null;
  };
  const ownPlan = async (user: PortalUser, id: string) => {
    const plan = await loadPlan(context, id);
    // Another customer's plan is "not found", exactly like one that does not exist.
    if (plan.customer !== user.customer) throw new SluiceError('not_found', 'There is no such plan for your organisation.');
    return plan;
  };
  const csrfField = (request: FastifyRequest) => html`<input type="hidden" name="_csrf" value="${request.portal!.csrf}">`;

  app.get('/portal', async (request, reply) => {
    const user = requireRole(request, reply, true); if (!user) return;
    const now = options.now();
    const order = (status: string) => (status === 'proposed' ? 0 : ['confirmed', 'in_progress', 'paused'].includes(status) ? 1 : 2);
    const shown = (await store.plans.list({ customer: user.customer! })).filter((plan) => plan.status !== 'draft').sort((a, b) => order(a.status) - order(b.status));
    const plans: { view: PlanView; title: string }[] = [];
    for (const plan of shown) plans.push({ view: await planView(context, plan, now), title: await planTitle(store, plan) });
    const zone = (await customerOf(store, user.customer!)).timezone;
    const awaiting = plans.filter(({ view }) => view.status === 'proposed').length;
    return send(reply, request, 'Plans', html`<h1>Upgrade and commissioning plans</h1>
${awaiting ? html`<div class="flash ok">${awaiting} plan${awaiting > 1 ? 's await' : ' awaits'} your answer.</div>` : ''}
<table><thead><tr><th>Plan</th><th>Status</th><th>Deadline (${zone})</th><th>Progress</th></tr></thead><tbody>
${plans.length ? plans.map(({ view: plan, title }) => html`<tr><td><a href="/portal/plans/${plan.id}">${title}</a>${plan.status === 'proposed' ? html` <span class="badge proposed">answer needed</span>` : ''}</td>
<td>${statusBadge(plan.status)}</td><td class="${plan.overdue ? 'overdue' : ''}">${localTime(plan.deadline, zone)}</td>
<td>${progressBar(progressTotals(plan.progress))}</td></tr>`)
  : html`<tr><td colspan="4" class="muted">No plans yet.</td></tr>`}</tbody></table>`);
  });

  app.get('/portal/plans/:id', async (request, reply) => {
    const user = requireRole(request, reply, true); if (!user) return;
    const plan = await ownPlan(user, (request.params as { id: string }).id);
    const now = options.now();
    const view = await planView(context, plan, now);
    const zone = (await customerOf(store, plan.customer)).timezone;
    const title = await planTitle(store, plan);
    const windows = view.windows as MaintenanceWindow[];
    const windowText = (window: MaintenanceWindow) => {
      const next = currentOrNextOccurrence(window, now);
      return html`${describeWindow(window)}${next ? html` <span class="muted">(next: ${localTime(next.start.toISOString(), zone)})</span>` : ''}`;
    };
    const answer = view.status === 'proposed' ? html`
<div class="card"><h2>Confirm a window</h2><p>Choose one of the proposed windows and name the maintenance staff who will attend.</p>
<form method="post" action="/portal/plans/${view.id}/confirm">${csrfField(request)}
${windows.map((window, index) => html`<label class="choice"><input type="radio" name="window" value="${index}" ${index === 0 ? html`checked` : ''} required> ${windowText(window)}</label>`)}
<label for="maintainer-name">Maintenance staff: name</label><input id="maintainer-name" name="maintainerName" required maxlength="200">
<label for="maintainer-phone">Maintenance staff: phone</label><input id="maintainer-phone" name="maintainerPhone" type="tel" required minlength="3" maxlength="50">
<button type="submit">Confirm this window</button></form></div>
<div class="card"><h2>Propose other times</h2><p>Times are in your local time zone, <strong>${zone}</strong>.</p>
<form method="post" action="/portal/plans/${view.id}/counter">${csrfField(request)}
<label for="counter-start">Start</label><input id="counter-start" name="start" type="datetime-local" required>
<label for="counter-end">End</label><input id="counter-end" name="end" type="datetime-local" required>
<label for="counter-comment">Comment</label><textarea id="counter-comment" name="comment" rows="3" maxlength="5000"></textarea>
<button class="secondary" type="submit">Send these times</button></form></div>` : '';
    const confirmation = view.confirmation ? html`<div class="card"><h2>Confirmed</h2>
<p>Window: ${windowText(windows[view.confirmation.window])}</p><p>Confirmed by ${view.confirmation.by.replace(/^user:/, '')} on ${localTime(view.confirmation.at, zone)}. Maintenance staff: <strong>${view.confirmation.maintainer?.name}</strong> (${view.confirmation.maintainer?.phone}).</p>
<p><a href="/portal/plans/${view.id}/calendar.ics">Add to calendar (.ics)</a></p></div>` : '';
    return send(reply, request, title, html`<h1>${title} ${statusBadge(view.status)}</h1>
<p class="muted">Deadline: <span class="${view.overdue ? 'overdue' : ''}">${localTime(view.deadline, zone)} (${zone})</span>${view.overdue ? ' — overdue' : ''}</p>
${answer}${confirmation}<h2>Progress by wave</h2>${waveBars(view)}
<h2>The written plan (version ${view.documentVersion})</h2><iframe class="document" title="Written plan" src="/portal/plans/${view.id}/document"></iframe>
<p><a href="/portal/plans/${view.id}/document" target="_blank">Open the written plan to print it</a></p>`);
  });

  app.get('/portal/plans/:id/document', async (request, reply) => {
    const user = requireRole(request, reply, true); if (!user) return;
    const plan = await ownPlan(user, (request.params as { id: string }).id);
    const document = await store.plans.document(plan.id, plan.documentVersion);
    if (!document) throw new SluiceError('not_found', 'This plan has no written version yet.');
    return reply.type('text/html; charset=utf-8').send(document.html);
  });

  app.get('/portal/plans/:id/calendar.ics', async (request, reply) => {
    const user = requireRole(request, reply, true); if (!user) return;
    const plan = await ownPlan(user, (request.params as { id: string }).id);
    if (plan.confirmedWindow === null) throw new SluiceError('conflict', 'A calendar entry exists once a window is confirmed.');
    return reply.type('text/calendar; charset=utf-8').header('Content-Disposition', `attachment; filename="plan-${plan.id}.ics"`)
      .send(await planCalendar(store, plan, options.publicUrl ?? `${request.protocol}://${request.headers.host}`));
  });

  app.post('/portal/plans/:id/confirm', async (request, reply) => {
    const user = requireRole(request, reply, true); if (!user) return;
    const id = (request.params as { id: string }).id;
    await ownPlan(user, id);
    const body = request.body as Record<string, string>;
    const name = String(body.maintainerName ?? '').trim();
    const phone = String(body.maintainerPhone ?? '').trim();
    if (!name || phone.length < 3) throw new SluiceError('validation_failed', 'Name the maintenance staff who will attend, with a phone number.');
    await confirmPlan(context, id, user.customer!, { window: Number(body.window), maintainer: { name: name.slice(0, 200), phone: phone.slice(0, 50) } }, actorOf(principalOf(user)));
    return reply.redirect(`/portal/plans/${id}?done=confirmed`, 303);
  });

  app.post('/portal/plans/:id/counter', async (request, reply) => {
    const user = requireRole(request, reply, true); if (!user) return;
    const id = (request.params as { id: string }).id;
    await ownPlan(user, id);
    const body = request.body as Record<string, string>;
    const timezone = (await customerOf(store, user.customer!)).timezone;
    const trim = (value: string | undefined) => String(value ?? '').slice(0, 16);
    await counterPlan(context, id, user.customer!, { windows: [{ start: trim(body.start), end: trim(body.end), timezone }], comment: String(body.comment ?? '').slice(0, 5000) }, actorOf(principalOf(user)));
    return reply.redirect(`/portal/plans/${id}?done=countered`, 303);
  });

  app.get('/portal/devices', async (request, reply) => {
    const user = requireRole(request, reply, true); if (!user) return;
    const zone = (await customerOf(store, user.customer!)).timezone;
    const devices = await store.devices.list({ customer: user.customer! });
    return send(reply, request, 'Devices', html`<h1>Your devices</h1><table><thead><tr><th>Device</th><th>Product</th><th>Version</th><th>State</th><th>Last contact (${zone})</th></tr></thead><tbody>
${devices.map((device) => html`<tr><td>${device.id}</td><td>${device.product}</td><td>${device.version}</td><td>${device.state ? statusBadge(device.state) : html`<span class="muted">never seen</span>`}</td><td>${localTime(device.lastSeenAt, zone) || '—'}</td></tr>`)}</tbody></table>`);
  });

  app.get('/portal/faults', async (request, reply) => {
    const user = requireRole(request, reply, true); if (!user) return;
    const zone = (await customerOf(store, user.customer!)).timezone;
    const now = options.now();
    const faults = (await store.faults.list({ customer: user.customer!, limit: 1000 })).map((fault) => faultView(fault, now));
    const devices = await store.devices.list({ customer: user.customer! });
    return send(reply, request, 'Faults', html`<h1>Faults</h1>
<div class="card"><h2>Report a fault</h2><form method="post" action="/portal/faults">${csrfField(request)}
<label for="fault-class">Class</label><select id="fault-class" name="class">${faultClasses.map((name) => html`<option value="${name}">${name}${{ A: ' — critical, 15 min', B: ' — major, 30 min', C: ' — minor, 45 min', D: ' — question, 2 h' }[name]}</option>`)}</select>
<label for="fault-severity">Severity</label><select id="fault-severity" name="severity"><option value="general">general</option><option value="major">major</option></select>
<label for="fault-device">Device (optional)</label><select id="fault-device" name="device"><option value="">—</option>${devices.map((device) => html`<option value="${device.id}">${device.id}</option>`)}</select>
<label for="fault-title">Title</label><input id="fault-title" name="title" required maxlength="300">
<label for="fault-description">Description</label><textarea id="fault-description" name="description" rows="4" maxlength="20000"></textarea>
<button type="submit">Report</button></form></div>
<table><thead><tr><th>Fault</th><th>Class</th><th>Status</th><th>Processing starts by</th><th>Resolved by</th></tr></thead><tbody>
${faults.map((fault) => html`<tr class="${fault.breached ? 'breached' : ''}"><td>${fault.id}: ${fault.title}</td><td>${fault.class}</td><td>${statusBadge(fault.status)}</td><td>${localTime(fault.due.acknowledgeBy, zone)}</td><td>${fault.due.resolveBy ? localTime(fault.due.resolveBy, zone) : 'a later release'}</td></tr>`)}</tbody></table>`);
  });

  app.post('/portal/faults', async (request, reply) => {
    const user = requireRole(request, reply, true); if (!user) return;
    const body = request.body as Record<string, string>;
    const title = String(body.title ?? '').trim();
    if (!title) throw new SluiceError('validation_failed', 'Give the fault a title.');
    await openFault(context, {
      customer: user.customer!, device: body.device || null, class: parseFaultClass(body.class), severity: body.severity === 'major' ? 'major' : 'general',
      title: title.slice(0, 300), description: String(body.description ?? '').slice(0, 20000), source: 'customer',
    }, actorOf(principalOf(user)));
    return reply.redirect('/portal/faults?done=reported', 303);
  });

  app.get('/portal/support', async (request, reply) => {
    const user = requireRole(request, reply, true); if (!user) return;
    const zone = (await customerOf(store, user.customer!)).timezone;
    const now = options.now();
    const sessions = (await listSessions(context, user.customer!, now)).map((session) => sessionView(session, now));
    return send(reply, request, 'Remote support', html`<h1>Remote support requests</h1><p class="muted">The vendor can collect diagnostics from a device only with your consent, for a limited time (${defaultConsentHours} hours).</p>
<table><thead><tr><th>Device</th><th>Reason</th><th>Collects</th><th>Status</th><th></th></tr></thead><tbody>
${sessions.map((session) => html`<tr><td>${session.device}</td><td>${session.reason}</td><td>${session.collect.join(', ')}</td><td>${statusBadge(session.status)}${session.expiresAt && session.status === 'consented' ? html`<div class="legend">until ${localTime(session.expiresAt, zone)}</div>` : ''}</td><td>
${session.status === 'requested' ? html`<form method="post" action="/portal/support/${session.id}/consent">${csrfField(request)}<button type="submit">Consent</button></form><form method="post" action="/portal/support/${session.id}/refuse">${csrfField(request)}<button class="secondary" type="submit">Refuse</button></form>` : ''}
${session.status === 'consented' ? html`<form method="post" action="/portal/support/${session.id}/withdraw">${csrfField(request)}<button class="secondary" type="submit">Withdraw consent</button></form>` : ''}</td></tr>`)}</tbody></table>`);
  });

  app.post('/portal/support/:id/:decision', async (request, reply) => {
    const user = requireRole(request, reply, true); if (!user) return;
    const { id, decision } = request.params as { id: string; decision: string };
    if (!['consent', 'refuse', 'withdraw'].includes(decision)) throw new SluiceError('not_found', 'Unknown action.');
    const event = decision as 'consent' | 'refuse' | 'withdraw';
    await decideSession(context, id, user.customer!, event, actorOf(principalOf(user)));
    return reply.redirect(`/portal/support?done=${event}`, 303);
  });
}
