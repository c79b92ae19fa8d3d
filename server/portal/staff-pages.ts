// Vendor staff pages: fleet overview, plans with status and progress (overdue highlighted),
// the SLA board (faults with due times, breaches in red) and support sessions.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html, type Html } from './html.js';
import { page, progressBar, statusBadge } from './layout.js';
import { requireRole, planTitle, localTime } from './customer-pages.js';
import { listPlanRows } from '../storage/plans.js';
import { planView, progressTotals } from '../services/plan-view.js';
import { faultView, type FaultRow } from '../services/faults.js';
import { sessionView, type SessionRow } from '../services/support-sessions.js';

const zone = 'UTC';

export default async function staffPages(app: FastifyInstance) {
  const context = app.sluice;
  const { db, options } = context;
  const send = (reply: FastifyReply, request: FastifyRequest, title: string, body: Html) =>
    reply.type('text/html; charset=utf-8').send(page({ title, user: request.portal!.user, csrf: request.portal!.csrf, body }));

  app.get('/staff', async (request, reply) => {
    if (!requireRole(request, reply, false)) return;
    const byCustomer = db.prepare(`SELECT customer, product, version, COUNT(*) AS devices, SUM(CASE WHEN state IN ('failed', 'rolled_back') THEN 1 ELSE 0 END) AS failing,
                                   MAX(last_seen_at) AS last_seen FROM devices GROUP BY customer, product, version ORDER BY customer, product, version`).all() as { customer: string; product: string; version: string; devices: number; failing: number; last_seen: string | null }[];
    const totals = db.prepare(`SELECT (SELECT COUNT(*) FROM devices) AS devices, (SELECT COUNT(*) FROM customers) AS customers,
                              (SELECT COUNT(*) FROM plans WHERE status IN ('confirmed', 'in_progress')) AS live, (SELECT COUNT(*) FROM faults WHERE status IN ('open', 'acknowledged')) AS faults`).get() as Record<string, number>;
    return send(reply, request, 'Fleet', html`<h1>Fleet overview</h1>
<div class="grid">${[['Devices', totals.devices], ['Customers', totals.customers], ['Plans rolling out', totals.live], ['Open faults', totals.faults]].map(([label, value]) => html`<div class="card"><div class="muted">${label}</div><div class="stat">${value}</div></div>`)}</div>
<h2>Devices by customer, product and version</h2><table><thead><tr><th>Customer</th><th>Product</th><th>Version</th><th>Devices</th><th>Failed last update</th><th>Last contact (UTC)</th></tr></thead><tbody>
${byCustomer.map((row) => html`<tr><td>${row.customer}</td><td>${row.product}</td><td>${row.version}</td><td>${row.devices}</td><td class="${row.failing ? 'breached' : ''}">${row.failing}</td><td>${localTime(row.last_seen, zone) || '—'}</td></tr>`)}</tbody></table>`);
  });

  app.get('/staff/plans', async (request, reply) => {
    if (!requireRole(request, reply, false)) return;
    const now = options.now();
    const plans = listPlanRows(db, {}).map((row) => planView(context, row, now));
    return send(reply, request, 'Plans', html`<h1>Plans</h1><table><thead><tr><th>Plan</th><th>Customer</th><th>Status</th><th>Deadline (UTC)</th><th>Progress</th></tr></thead><tbody>
${plans.map((plan) => html`<tr class="${plan.overdue ? 'breached' : ''}"><td>${planTitle(plan, db)}<div class="legend">${plan.id}</div></td><td>${plan.customer}</td><td>${statusBadge(plan.status)}</td>
<td>${localTime(plan.deadline, zone)}${plan.overdue ? html`<div class="overdue">overdue: ${plan.overdueReason?.replaceAll('_', ' ')}</div>` : ''}</td><td>${progressBar(progressTotals(plan.progress))}</td></tr>`)}</tbody></table>`);
  });

  app.get('/staff/sla', async (request, reply) => {
    if (!requireRole(request, reply, false)) return;
    const now = options.now();
    const faults = (db.prepare("SELECT * FROM faults WHERE status <> 'closed' ORDER BY seq DESC LIMIT 500").all() as FaultRow[]).map((row) => faultView(row, now));
    return send(reply, request, 'SLA board', html`<h1>SLA board</h1><p class="muted">Open faults with their contractual due times; breaches in red.</p>
<table><thead><tr><th>Fault</th><th>Customer</th><th>Class</th><th>Status</th><th>Processing starts by (UTC)</th><th>Resolved by (UTC)</th></tr></thead><tbody>
${faults.map((fault) => html`<tr class="${fault.breached ? 'breached' : ''}"><td>${fault.id}: ${fault.title}${fault.breached ? html`<div class="breached">breached</div>` : ''}</td><td>${fault.customer}</td><td>${fault.class}</td><td>${statusBadge(fault.status)}</td>
<td class="${fault.breaches.acknowledge ? 'breached' : ''}">${localTime(fault.due.acknowledgeBy, zone)}</td><td class="${fault.breaches.resolve ? 'breached' : ''}">${fault.due.resolveBy ? localTime(fault.due.resolveBy, zone) : 'a later release'}</td></tr>`)}</tbody></table>`);
  });

  app.get('/staff/support', async (request, reply) => {
    if (!requireRole(request, reply, false)) return;
    const now = options.now();
    const sessions = (db.prepare('SELECT * FROM support_sessions ORDER BY requested_at DESC LIMIT 500').all() as SessionRow[]).map((row) => sessionView(row, now));
    return send(reply, request, 'Support sessions', html`<h1>Remote support sessions</h1><table><thead><tr><th>Device</th><th>Customer</th><th>Reason</th><th>Status</th><th>Requested (UTC)</th><th>Bundle</th></tr></thead><tbody>
${sessions.map((session) => html`<tr><td>${session.device}</td><td>${session.customer}</td><td>${session.reason}</td><td>${statusBadge(session.status)}</td><td>${localTime(session.requestedAt, zone)}</td><td>${session.bundle ? `${session.bundle.size} bytes` : '—'}</td></tr>`)}</tbody></table>`);
  });
}
