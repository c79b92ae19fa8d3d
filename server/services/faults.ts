// Faults over the domain's clocks: opening (by a customer, staff or an agent's failed update),
// transitions with who and when, the SLA view; and the release hook: a release whose manifest
// lists a fault in `fixes` moves it to fix_available and drafts a plan per affected customer.
// Breaches are never stored: they are computed from the stored timestamps on every read.
import type { SluiceContext } from '../context.js';
import type { Store } from '../storage/store.js';
import type { Fault } from '../storage/repositories/records.js';
import type { FaultChanges } from '../storage/repositories/faults.js';
import { SluiceError } from '../errors.js';
import { breaches, dueTimes, transitionFault, type FaultClass, type FaultEvent, type FaultSeverity } from '../domain/faults.js';
import type { FaultRecord } from '../domain/sla.js';
import { createPlan } from './plans.js';

const iso = (value: Date | null) => value?.toISOString() ?? null;

export function faultView(fault: Fault, now: Date) {
  const due = dueTimes(fault);
  const breach = breaches(fault, now);
  return {
    id: fault.id, customer: fault.customer, device: fault.device, plan: fault.plan, class: fault.class, severity: fault.severity,
    title: fault.title, description: fault.description, status: fault.status, source: fault.source,
    reportedBy: fault.reportedBy, reportedAt: fault.reportedAt.toISOString(),
    acknowledgedBy: fault.acknowledgedBy, acknowledgedAt: iso(fault.acknowledgedAt),
    fixRelease: fault.fixRelease, fixAvailableAt: iso(fault.fixAvailableAt),
    resolvedBy: fault.resolvedBy, resolvedAt: iso(fault.resolvedAt), resolution: fault.resolution, closedAt: iso(fault.closedAt),
    // Response is immediate for every class: the report is acknowledged as received on creation.
    due: { respondBy: fault.reportedAt.toISOString(), acknowledgeBy: due.acknowledgeBy.toISOString(), resolveBy: iso(due.resolveBy) },
    breached: breach.acknowledge || breach.resolve,
    breaches: breach,
  };
}

export type FaultView = ReturnType<typeof faultView>;

/** What the SLA report reads of a fault. */
export const slaRecord = (fault: Fault): FaultRecord => ({
  id: fault.id, class: fault.class, severity: fault.severity, reportedAt: fault.reportedAt, acknowledgedAt: fault.acknowledgedAt, resolvedAt: fault.resolvedAt,
});

export interface OpenFaultInput {
  customer: string; device?: string | null; plan?: string | null; class: FaultClass; severity?: FaultSeverity;
  title: string; description?: string; source: string;
}

/**
 * Opens a fault and audits it, in `store`'s transaction when it is one. Null only for an
 * agent's fault when that device already has one for that plan (one fault per failed update).
 */
export async function openFault(context: SluiceContext, input: OpenFaultInput, actor: string, store: Store = context.store): Promise<Fault | null> {
  const now = context.options.now();
  if (!(await store.customers.get(input.customer))) throw new SluiceError('unknown_customer', `no customer "${input.customer}"`);
  if (input.device) {
    const device = await store.devices.get(input.device);
    if (!device) throw new SluiceError('unknown_device', `no device "${input.device}"`);
    if (device.customer !== input.customer) throw new SluiceError('customer_mismatch', `device ${input.device} belongs to another customer`);
  }
  return store.transaction(async (tx) => {
    const fault = await tx.faults.insert({
      customer: input.customer, device: input.device ?? null, plan: input.plan ?? null, class: input.class, severity: input.severity ?? 'general',
      title: input.title, description: input.description ?? '', source: input.source, reportedBy: actor, reportedAt: now,
    });
    if (fault) await tx.audit.record({ at: now, actor, action: 'fault.open', subject: `fault:${fault.id}`, details: { class: input.class, customer: input.customer, device: input.device ?? null } });
    return fault;
  });
}

export interface FaultStepOptions {
  resolution?: string;
  release?: string;
  /** Refuses the step for whoever may not see the fault (throw); runs before anything changes. */
  visibleTo?: (fault: Fault) => void;
}

/**
 * One lifecycle step by the domain's table, with who and when, audited in the same
 * transaction. The update is conditional on the status read, so two requests taking the
 * same step at once record it once; the other is refused as a second step would be.
 */
export async function takeFaultStep(context: SluiceContext, id: string, event: FaultEvent, actor: string, options: FaultStepOptions = {}, store: Store = context.store): Promise<Fault> {
  return store.transaction(async (tx) => {
    const fault = await tx.faults.getForUpdate(id);
    if (!fault) throw new SluiceError('not_found', `no fault "${id}"`);
    options.visibleTo?.(fault);
    const now = context.options.now();
    const next = transitionFault(fault.status, event);
    const changes: FaultChanges = {};
    if (event === 'acknowledge') Object.assign(changes, { acknowledgedBy: actor, acknowledgedAt: now });
    if (event === 'fix_available') Object.assign(changes, { fixRelease: options.release ?? null, fixAvailableAt: now });
    if (event === 'resolve') Object.assign(changes, { resolvedBy: actor, resolvedAt: now, resolution: options.resolution ?? null });
    if (event === 'close') Object.assign(changes, { closedAt: now });
    if (!(await tx.faults.transition(id, fault.status, next, changes))) {
      throw new SluiceError('illegal_transition', `cannot ${event.replaceAll('_', ' ')} fault ${id}: it changed meanwhile`, { status: fault.status });
    }
    const extra = { ...(options.resolution ? { resolution: options.resolution } : {}), ...(options.release ? { release: options.release } : {}) };
    await tx.audit.record({ at: now, actor, action: `fault.${event}`, subject: `fault:${id}`, details: { from: fault.status, to: next, ...extra } });
    return (await tx.faults.get(id))!;
  });
}

/** Wire the service desk to the rest of the domain (DESIGN.md; issue: service desk). */
export function registerFaultListeners(context: SluiceContext, options: { autoFaultClass: FaultClass }): void {
  context.events.on('release.published', async ({ release, product, fixes, actor, at }, tx) => {
    const customers = new Set<string>();
    for (const id of fixes) {
      const fault = await tx.faults.get(id);
      if (!fault || !['open', 'acknowledged'].includes(fault.status)) continue;
      await takeFaultStep(context, id, 'fix_available', actor, { release }, tx);
      customers.add(fault.customer);
    }
    for (const customer of customers) {
      if ((await tx.devices.list({ customer, product })).length === 0) continue;
      const timezone = (await tx.customers.get(customer))!.timezone;
      // Left as a draft for support to propose: a placeholder weekly window in the customer's zone.
      const plan = await createPlan(context, {
        customer, release, windows: [{ cron: '0 2 * * 0', duration: 'PT3H', timezone }],
        notes: `Drafted automatically: this release fixes ${fixes.join(', ')}. Agree the window with the customer before proposing.`,
      }, 'system', tx);
      await tx.audit.record({ at, actor: 'system', action: 'plan.drafted_for_fix', subject: `plan:${plan.id}`, details: { release, customer, fixes } });
    }
  });
  context.events.on('device.state', async ({ device, plan, state, detail }, tx) => {
    if (!plan || (state !== 'failed' && state !== 'rolled_back')) return;
    if (await tx.faults.agentFaultExists(device, plan)) return;
    const row = (await tx.devices.get(device))!;
    await openFault(context, {
      customer: row.customer, device, plan, class: options.autoFaultClass, severity: 'general', source: 'agent',
      title: `Update ${state === 'rolled_back' ? 'rolled back' : 'failed'} on ${device}`,
      description: detail ?? '',
    }, `device:${device}`, tx);
  });
}
