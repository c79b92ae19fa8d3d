// Faults over the domain's clocks: opening (by a customer, staff or an agent's failed update),
// transitions with who and when, the SLA view; and the release hook: a release whose manifest
// lists a fault in `fixes` moves it to fix_available and drafts a plan per affected customer.
// Breaches are never stored: they are computed from the stored timestamps on every read.
import type { SluiceContext } from '../context.js';
import type { Store } from '../storage/store.js';
import type { Fault } from '../storage/repositories/records.js';
import type { FaultChanges, FaultQuestion } from '../storage/repositories/faults.js';
import type { FaultType } from '../../protocol/index.js';
import { SluiceError } from '../errors.js';
import { transitionFault, type FaultClass, type FaultEvent, type FaultSeverity } from '../domain/faults.js';
import { defaultClockSetting, faultClocks, questionPauses, type ClockSetting, type Pause } from '../domain/fault-clock.js';
import { contractTerms, settingWithTerms } from '../domain/contract-terms.js';
import type { FaultRecord } from '../domain/sla.js';
import type { ServerOptions } from '../config.js';
import { notify } from '../notifications/outbox.js';
import { createPlan } from './plans.js';

const iso = (value: Date | null) => value?.toISOString() ?? null;

/** The fault clocks' terms from the server's configuration (README, "Service hours"). */
export const clockSettingOf = (options: Pick<ServerOptions, 'serviceHours' | 'clockWarningShare'>): ClockSetting => ({
  ...defaultClockSetting,
  serviceHours: options.serviceHours,
  warningShare: options.clockWarningShare,
});

/** How a fault's clocks count: its customer's terms on the server's calendar, and the waits on the customer. */
export interface FaultClockContext {
  setting: ClockSetting;
  pauses: readonly Pause[];
  questions?: readonly FaultQuestion[];
}

/** Per customer, the clock setting of its contract terms (the seed's table where it has none of its own). */
export async function customerSettings(
  context: SluiceContext,
  customers: readonly string[],
  store: Store = context.store,
): Promise<Map<string, ClockSetting>> {
  const base = clockSettingOf(context.options);
  const own = await store.customers.contractTerms([...new Set(customers)]);
  return new Map([...own].map(([customer, terms]) => [customer, settingWithTerms(base, contractTerms(terms))]));
}

const seconds = (milliseconds: number) => Math.round(milliseconds / 1000);

/**
 * Without `clock`, the default calendar and no pauses; the API passes the server's own
 * (faultViews), so that pages and replies count as the SLA report does.
 */
export function faultView(fault: Fault, now: Date, clock: FaultClockContext = { setting: defaultClockSetting, pauses: [] }): FaultType {
  const clocks = faultClocks({ ...fault, pauses: clock.pauses }, now, clock.setting);
  const due = { acknowledgeBy: clocks.acknowledge.dueAt, resolveBy: clocks.resolve?.dueAt ?? null };
  const breach = { acknowledge: clocks.acknowledge.breached, resolve: clocks.resolve?.breached ?? false };
  const clockView = (state: NonNullable<typeof clocks.resolve>) => ({
    dueAt: state.dueAt.toISOString(),
    warnAt: state.warnAt.toISOString(),
    doneAt: iso(state.doneAt),
    withinSeconds: seconds(state.withinMs),
    countedSeconds: seconds(state.countedMs),
    remainingSeconds: state.doneAt ? null : Math.max(0, seconds(state.withinMs - state.countedMs)),
    breached: state.breached,
  });
  return {
    id: fault.id,
    customer: fault.customer,
    device: fault.device,
    plan: fault.plan,
    class: fault.class,
    severity: fault.severity,
    title: fault.title,
    description: fault.description,
    status: fault.status,
    source: fault.source,
    reportedBy: fault.reportedBy,
    reportedAt: fault.reportedAt.toISOString(),
    acknowledgedBy: fault.acknowledgedBy,
    acknowledgedAt: iso(fault.acknowledgedAt),
    fixRelease: fault.fixRelease,
    fixAvailableAt: iso(fault.fixAvailableAt),
    resolvedBy: fault.resolvedBy,
    resolvedAt: iso(fault.resolvedAt),
    resolution: fault.resolution,
    closedAt: iso(fault.closedAt),
    // Response is immediate for every class: the report is acknowledged as received on creation.
    due: { respondBy: fault.reportedAt.toISOString(), acknowledgeBy: due.acknowledgeBy.toISOString(), resolveBy: iso(due.resolveBy) },
    breached: breach.acknowledge || breach.resolve,
    breaches: breach,
    questions: (clock.questions ?? []).map((question) => ({
      id: question.id,
      text: question.text,
      askedBy: question.askedBy,
      askedAt: question.askedAt.toISOString(),
      answer: question.answer,
      answeredBy: question.answeredBy,
      answeredAt: iso(question.answeredAt),
    })),
    // What a page shows: "due in N min (service hours)", the time paused waiting on the customer.
    clock: {
      serviceHours: clocks.serviceHours,
      paused: clocks.paused,
      pausedSeconds: seconds(clocks.pausedMs),
      warningShare: clock.setting.warningShare,
      acknowledge: clockView(clocks.acknowledge),
      resolve: clocks.resolve && clockView(clocks.resolve),
    },
  };
}

/**
 * The waits on the customer, per fault: its device's support sessions while consent was
 * requested, and the questions asked on it until they were answered.
 */
async function faultWaits(store: Store, faults: readonly Fault[]) {
  const devices = [...new Set(faults.map((fault) => fault.device).filter((device): device is string => device !== null))];
  const waits = await store.notifications.customerWaits(devices);
  const questions = await store.faults.questionsOf(faults.map((fault) => fault.id));
  return new Map(
    faults.map((fault) => {
      const asked = questions.filter((question) => question.fault === fault.id);
      const consent = waits.filter((wait) => wait.device === fault.device && (wait.end === null || wait.end > fault.reportedAt));
      return [fault.id, { pauses: [...consent, ...questionPauses(asked)], questions: asked }];
    }),
  );
}

/** Per fault, how its clocks count: its customer's terms, its waits on the customer, its questions. */
export async function faultClockContexts(
  context: SluiceContext,
  faults: readonly Fault[],
  store: Store = context.store,
): Promise<Map<string, FaultClockContext>> {
  const settings = await customerSettings(
    context,
    faults.map((fault) => fault.customer),
    store,
  );
  const waits = await faultWaits(store, faults);
  return new Map(faults.map((fault) => [fault.id, { setting: settings.get(fault.customer)!, ...waits.get(fault.id)! }]));
}

/** Views of faults as the API gives them: counted on the server's calendar and the customer's terms, with their pauses. */
export async function faultViews(context: SluiceContext, faults: readonly Fault[], now: Date, store: Store = context.store) {
  const clocks = await faultClockContexts(context, faults, store);
  return faults.map((fault) => faultView(fault, now, clocks.get(fault.id)));
}

export type FaultView = ReturnType<typeof faultView>;

/** What the SLA report reads of a fault. */
export const slaRecord = (fault: Fault, pauses: readonly Pause[] = [], setting?: ClockSetting): FaultRecord => ({
  id: fault.id,
  class: fault.class,
  severity: fault.severity,
  reportedAt: fault.reportedAt,
  acknowledgedAt: fault.acknowledgedAt,
  resolvedAt: fault.resolvedAt,
  pauses,
  setting,
});

/** What a fault's events tell their receivers. */
async function faultEventData(context: SluiceContext, fault: Fault, now: Date, tx: Store) {
  const view = faultView(fault, now, (await faultClockContexts(context, [fault], tx)).get(fault.id));
  return {
    fault: fault.id,
    class: fault.class,
    severity: fault.severity,
    title: fault.title,
    status: fault.status,
    device: fault.device,
    reportedAt: view.reportedAt,
    acknowledgeBy: view.due.acknowledgeBy,
    resolveBy: view.due.resolveBy,
    serviceHours: view.clock.serviceHours,
  };
}

export interface OpenFaultInput {
  customer: string;
  device?: string | null;
  plan?: string | null;
  class: FaultClass;
  severity?: FaultSeverity;
  title: string;
  description?: string;
  source: string;
}

/**
 * Opens a fault and audits it, in `store`'s transaction when it is one. Null only for an
 * agent's fault when that device already has one for that plan (one fault per failed update).
 */
export async function openFault(
  context: SluiceContext,
  input: OpenFaultInput,
  actor: string,
  store: Store = context.store,
): Promise<Fault | null> {
  const now = context.options.now();
  if (!(await store.customers.get(input.customer))) throw new SluiceError('unknown_customer', `no customer "${input.customer}"`);
  if (input.device) {
    const device = await store.devices.get(input.device);
    if (!device) throw new SluiceError('unknown_device', `no device "${input.device}"`);
    if (device.customer !== input.customer)
      throw new SluiceError('customer_mismatch', `device ${input.device} belongs to another customer`);
  }
  return store.transaction(async (tx) => {
    const fault = await tx.faults.insert({
      customer: input.customer,
      device: input.device ?? null,
      plan: input.plan ?? null,
      class: input.class,
      severity: input.severity ?? 'general',
      title: input.title,
      description: input.description ?? '',
      source: input.source,
      reportedBy: actor,
      reportedAt: now,
    });
    if (fault) {
      await tx.audit.record({
        at: now,
        actor,
        action: 'fault.open',
        subject: `fault:${fault.id}`,
        details: { class: input.class, customer: input.customer, device: input.device ?? null },
      });
      await notify(tx, {
        event: 'fault.reported',
        subject: `fault:${fault.id}`,
        customer: fault.customer,
        faultClass: fault.class,
        data: await faultEventData(context, fault, now, tx),
        at: now,
      });
    }
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
export async function takeFaultStep(
  context: SluiceContext,
  id: string,
  event: FaultEvent,
  actor: string,
  options: FaultStepOptions = {},
  store: Store = context.store,
): Promise<Fault> {
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
      throw new SluiceError('illegal_transition', `cannot ${event.replaceAll('_', ' ')} fault ${id}: it changed meanwhile`, {
        status: fault.status,
      });
    }
    const extra = {
      ...(options.resolution ? { resolution: options.resolution } : {}),
      ...(options.release ? { release: options.release } : {}),
    };
    await tx.audit.record({
      at: now,
      actor,
      action: `fault.${event}`,
      subject: `fault:${id}`,
      details: { from: fault.status, to: next, ...extra },
    });
    const changed = (await tx.faults.get(id))!;
    if (event === 'acknowledge' || event === 'resolve') {
      await notify(tx, {
        event: event === 'acknowledge' ? 'fault.acknowledged' : 'fault.resolved',
        subject: `fault:${id}`,
        customer: changed.customer,
        faultClass: changed.class,
        data: { ...(await faultEventData(context, changed, now, tx)), actor, ...extra },
        at: now,
      });
    }
    return changed;
  });
}

/** Wire the service desk to the rest of the domain (DESIGN.md; issue: service desk). */
export function registerFaultListeners(context: SluiceContext, options: { autoFaultClass: FaultClass }): void {
  context.events.on('release.published', async ({ release, product, fixes, actor, at }, tx) => {
    const customers = new Map<string, string[]>();
    for (const id of fixes) {
      const fault = await tx.faults.get(id);
      if (!fault || !['open', 'acknowledged'].includes(fault.status)) continue;
      await takeFaultStep(context, id, 'fix_available', actor, { release }, tx);
      customers.set(fault.customer, [...(customers.get(fault.customer) ?? []), id]);
    }
    for (const [customer, own] of customers) {
      if ((await tx.devices.list({ customer, product })).length === 0) continue;
      const timezone = (await tx.customers.get(customer))!.timezone;
      // Left as a draft for support to propose: a placeholder weekly window in the customer's zone.
      const plan = await createPlan(
        context,
        {
          customer,
          release,
          windows: [{ cron: '0 2 * * 0', duration: 'PT3H', timezone }],
          // Only this customer's faults: another customer's fault ids are not theirs to read.
          notes: `This release fixes ${own.join(', ')}.`,
          internalNotes: 'Drafted automatically for the faults this release fixes. Agree the window with the customer before proposing.',
        },
        'system',
        tx,
      );
      await tx.audit.record({
        at,
        actor: 'system',
        action: 'plan.drafted_for_fix',
        subject: `plan:${plan.id}`,
        details: { release, customer, fixes },
      });
    }
  });
  context.events.on('device.state', async ({ device, plan, state, detail }, tx) => {
    if (!plan || (state !== 'failed' && state !== 'rolled_back')) return;
    if (await tx.faults.agentFaultExists(device, plan)) return;
    const row = (await tx.devices.get(device))!;
    await openFault(
      context,
      {
        customer: row.customer,
        device,
        plan,
        class: options.autoFaultClass,
        severity: 'general',
        source: 'agent',
        title: `Update ${state === 'rolled_back' ? 'rolled back' : 'failed'} on ${device}`,
        description: detail ?? '',
      },
      `device:${device}`,
      tx,
    );
  });
}
