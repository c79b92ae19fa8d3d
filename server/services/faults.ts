// Faults over the domain's clocks: opening (by a customer, staff or an agent's failed update),
// transitions with who and when, the SLA view; and the release hook: a release whose manifest
// lists a fault in `fixes` moves it to fix_available and drafts a plan per affected customer.
import type { SluiceContext } from '../context.js';
import { SluiceError } from '../errors.js';
import { recordAudit } from '../audit.js';
import { getCustomer, getDevice, listDevices } from '../storage/identity.js';
import { breaches, dueTimes, transitionFault, type FaultClass, type FaultEvent, type FaultSeverity, type FaultStatus } from '../domain/faults.js';
import { createPlan } from './plans.js';

export interface FaultRow {
  seq: number; id: string; customer: string; device: string | null; plan: string | null; class: FaultClass; severity: FaultSeverity;
  title: string; description: string; status: FaultStatus; source: string; reported_by: string; reported_at: string;
  acknowledged_by: string | null; acknowledged_at: string | null; fix_release: string | null; fix_available_at: string | null;
  resolved_by: string | null; resolved_at: string | null; resolution: string | null; closed_at: string | null;
}

const date = (value: string | null) => (value ? new Date(value) : null);

export function faultView(row: FaultRow, now: Date) {
  const clock = { class: row.class, severity: row.severity, reportedAt: new Date(row.reported_at), acknowledgedAt: date(row.acknowledged_at), resolvedAt: date(row.resolved_at) };
  const due = dueTimes(clock);
  const breach = breaches(clock, now);
  return {
    id: row.id, customer: row.customer, device: row.device, plan: row.plan, class: row.class, severity: row.severity,
    title: row.title, description: row.description, status: row.status, source: row.source,
    reportedBy: row.reported_by, reportedAt: row.reported_at,
    acknowledgedBy: row.acknowledged_by, acknowledgedAt: row.acknowledged_at,
    fixRelease: row.fix_release, fixAvailableAt: row.fix_available_at,
    resolvedBy: row.resolved_by, resolvedAt: row.resolved_at, resolution: row.resolution, closedAt: row.closed_at,
    // Response is immediate for every class: the report is acknowledged as received on creation.
    due: { respondBy: row.reported_at, acknowledgeBy: due.acknowledgeBy.toISOString(), resolveBy: due.resolveBy?.toISOString() ?? null },
    breached: breach.acknowledge || breach.resolve,
    breaches: breach,
  };
}

export const getFault = (context: SluiceContext, id: string) => context.db.prepare('SELECT * FROM faults WHERE id = ?').get(id) as FaultRow | undefined;

export function openFault(context: SluiceContext, input: { customer: string; device?: string | null; plan?: string | null; class: FaultClass; severity?: FaultSeverity; title: string; description?: string; source: string }, actor: string): FaultRow {
  const { db } = context;
  const now = context.options.now();
  if (!getCustomer(db, input.customer)) throw new SluiceError('unknown_customer', `no customer "${input.customer}"`);
  if (input.device) {
    const device = getDevice(db, input.device);
    if (!device) throw new SluiceError('unknown_device', `no device "${input.device}"`);
    if (device.customer !== input.customer) throw new SluiceError('customer_mismatch', `device ${input.device} belongs to another customer`);
  }
  return db.transaction(() => {
    const next = ((db.prepare('SELECT COALESCE(MAX(seq), 1000) AS seq FROM faults').get() as { seq: number }).seq) + 1;
    const id = `F-${next}`;
    db.prepare(`INSERT INTO faults (seq, id, customer, device, plan, class, severity, title, description, status, source, reported_by, reported_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`).run(
      next, id, input.customer, input.device ?? null, input.plan ?? null, input.class, input.severity ?? 'general', input.title, input.description ?? '', input.source, actor, now.toISOString());
    recordAudit(db, { at: now, actor, action: 'fault.open', subject: `fault:${id}`, details: { class: input.class, customer: input.customer, device: input.device ?? null } });
    return getFault(context, id)!;
  })();
}

export function transitionFaultRow(context: SluiceContext, row: FaultRow, event: FaultEvent, actor: string, extra: { resolution?: string; release?: string } = {}): FaultRow {
  const { db } = context;
  const now = context.options.now().toISOString();
  const next = transitionFault(row.status, event);
  const changes: Record<string, string | null> = { status: next };
  if (event === 'acknowledge') Object.assign(changes, { acknowledged_by: actor, acknowledged_at: now });
  if (event === 'fix_available') Object.assign(changes, { fix_release: extra.release ?? null, fix_available_at: now });
  if (event === 'resolve') Object.assign(changes, { resolved_by: actor, resolved_at: now, resolution: extra.resolution ?? null });
  if (event === 'close') Object.assign(changes, { closed_at: now });
  db.prepare(`UPDATE faults SET ${Object.keys(changes).map((key) => `${key} = @${key}`).join(', ')} WHERE id = @id`).run({ ...changes, id: row.id });
  recordAudit(db, { at: new Date(now), actor, action: `fault.${event}`, subject: `fault:${row.id}`, details: { from: row.status, to: next, ...extra } });
  return getFault(context, row.id)!;
}

/** Wire the service desk to the rest of the domain (DESIGN.md; issue: service desk). */
export function registerFaultListeners(context: SluiceContext, options: { autoFaultClass: FaultClass }): void {
  context.events.on('release.published', ({ release, product, fixes, actor, at }) => {
    const customers = new Set<string>();
    for (const id of fixes) {
      const fault = getFault(context, id);
      if (!fault || !['open', 'acknowledged'].includes(fault.status)) continue;
      transitionFaultRow(context, fault, 'fix_available', actor, { release });
      customers.add(fault.customer);
    }
    for (const customer of customers) {
      if (listDevices(context.db, { customer, product }).length === 0) continue;
      const timezone = getCustomer(context.db, customer)!.timezone;
      // Left as a draft for support to propose: a placeholder weekly window in the customer's zone.
      const plan = createPlan(context, {
        customer, release, windows: [{ cron: '0 2 * * 0', duration: 'PT3H', timezone }],
        notes: `Drafted automatically: this release fixes ${fixes.join(', ')}. Agree the window with the customer before proposing.`,
      }, 'system');
      recordAudit(context.db, { at, actor: 'system', action: 'plan.drafted_for_fix', subject: `plan:${plan.id}`, details: { release, customer, fixes } });
    }
  });
  context.events.on('device.state', ({ device, plan, state, detail }) => {
    if (!plan || (state !== 'failed' && state !== 'rolled_back')) return;
    const row = getDevice(context.db, device)!;
    const exists = context.db.prepare("SELECT 1 FROM faults WHERE device = ? AND plan = ? AND source = 'agent'").get(device, plan);
    if (exists) return;
    openFault(context, {
      customer: row.customer, device, plan, class: options.autoFaultClass, severity: 'general', source: 'agent',
      title: `Update ${state === 'rolled_back' ? 'rolled back' : 'failed'} on ${device}`,
      description: detail ?? '',
    }, `device:${device}`);
  });
}
