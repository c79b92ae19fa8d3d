// Vendor staff pages: fleet overview, plans with status and progress (overdue highlighted),
// the SLA board (faults with due times, breaches in red) and support sessions.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html, type Html } from './html.js';
import { page, progressBar, statusBadge } from './layout.js';
import { requireRole, planTitle, localTime } from './customer-pages.js';
import { planView, progressTotals, type PlanView } from '../services/plan-view.js';
import { faultView } from '../services/faults.js';
import { sessionView, listSessions } from '../services/support-sessions.js';

const zone = 'UTC';

export default async function staffPages(app: FastifyInstance) {
  const context = app.sluice;
  const { store, options } = context;
  const send = (reply: FastifyReply, request: FastifyRequest, title: string, body: Html) =>
    reply.type('text/html; charset=utf-8').send(page({ title, user: request.portal!.user, csrf: request.portal!.csrf, body }));

  app.get('/staff', async (request, reply) => {
    if (!requireRole(request, reply, false)) return;
    const byCustomer = await store.devices.fleetSummary();
    const live = (await Promise.all(['confirmed', 'in_progress'].map((status) => store.plans.list({ status })))).flat();
    const totals = {
      devices: byCustomer.reduce((sum, row) => sum + row.devices, 0), customers: (await store.customers.list()).length,
      live: live.length, faults: await store.faults.countUnresolved(),
    };
    return send(reply, request, 'Fleet', html`<h1>Fleet overview</h1>
<div class="grid">${[['Devices', totals.devices], ['Customers', totals.customers], ['Plans rolling out', totals.live], ['Open faults', totals.faults]].map(([label, value]) => html`<div class="card"><div class="muted">${label}</div><div class="stat">${value}</div></div>`)}</div>
<h2>Devices by customer, product and version</h2><table><thead><tr><th>Customer</th><th>Product</th><th>Version</th><th>Devices</th><th>Failed last update</th><th>Last contact (UTC)</th></tr></thead><tbody>
${byCustomer.map((row) => html`<tr><td>${row.customer}</td><td>${row.product}</td><td>${row.version}</td><td>${row.devices}</td><td class="${row.failing ? 'breached' : ''}">${row.failing}</td><td>${localTime(row.lastSeenAt, zone) || '—'}</td></tr>`)}</tbody></table>`);
  });

  app.get('/staff/plans', async (request, reply) => {
    if (!requireRole(request, reply, false)) return;
    const now = options.now();
    const plans: { plan: PlanView; title: string }[] = [];
    for (const plan of await store.plans.list()) plans.push({ plan: await planView(context, plan, now), title: await planTitle(store, plan) });
    return send(reply, request, 'Plans', html`<h1>Plans</h1><table><thead><tr><th>Plan</th><th>Customer</th><th>Status</th><th>Deadline (UTC)</th><th>Progress</th></tr></thead><tbody>
${plans.map(({ plan, title }) => html`<tr class="${plan.overdue ? 'breached' : ''}"><td>${title}<div class="legend">${plan.id}</div></td><td>${plan.customer}</td><td>${statusBadge(plan.status)}</td>
<td>${localTime(plan.deadline, zone)}${plan.overdue ? html`<div class="overdue">overdue: ${plan.overdueReason?.replaceAll('_', ' ')}</div>` : ''}</td><td>${progressBar(progressTotals(plan.progress))}</td></tr>`)}</tbody></table>`);
  });

  app.get('/staff/sla', async (request, reply) => {
    if (!requireRole(request, reply, false)) return;
    const now = options.now();
    const faults = (await store.faults.list({ unclosed: true, limit: 500 })).map((fault) => faultView(fault, now));
    return send(reply, request, 'SLA board', html`<h1>SLA board</h1><p class="muted">Open faults with their contractual due times; breaches in red.</p>
<table><thead><tr><th>Fault</th><th>Customer</th><th>Class</th><th>Status</th><th>Processing starts by (UTC)</th><th>Resolved by (UTC)</th></tr></thead><tbody>
${faults.map((fault) => html`<tr class="${fault.breached ? 'breached' : ''}"><td>${fault.id}: ${fault.title}${fault.breached ? html`<div class="breached">breached</div>` : ''}</td><td>${fault.customer}</td><td>${fault.class}</td><td>${statusBadge(fault.status)}</td>
<td class="${fault.breaches.acknowledge ? 'breached' : ''}">${localTime(fault.due.acknowledgeBy, zone)}</td><td class="${fault.breaches.resolve ? 'breached' : ''}">${fault.due.resolveBy ? localTime(fault.due.resolveBy, zone) : 'a later release'}</td></tr>`)}</tbody></table>`);
  });

  app.get('/staff/support', async (request, reply) => {
    if (!requireRole(request, reply, false)) return;
    const now = options.now();
    const sessions = (await listSessions(context, null, now, 500)).map((session) => sessionView(session, now));
    return send(reply, request, 'Support sessions', html`<h1>Remote support sessions</h1><table><thead><tr><th>Device</th><th>Customer</th><th>Reason</th><th>Status</th><th>Requested (UTC)</th><th>Bundle</th></tr></thead><tbody>
${sessions.map((session) => html`<tr><td>${session.device}</td><td>${session.customer}</td><td>${session.reason}</td><td>${statusBadge(session.status)}</td><td>${localTime(session.requestedAt, zone)}</td><td>${session.bundle ? `${session.bundle.size} bytes` : '—'}</td></tr>`)}</tbody></table>`);
  });
}
