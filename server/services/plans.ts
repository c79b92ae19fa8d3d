// The plan workflow (DESIGN.md, "Upgrade plans"): draft → proposed → confirmed → in_progress
// → completed, with countered, paused, cancelled, and overdue flagged. Rules come from the
// pure domain modules; this layer reads the plan (its row locked), applies a rule, and writes
// the change with its audit row in one transaction.
import { randomUUID } from 'node:crypto';
import type { SluiceContext } from '../context.js';
import type { Store } from '../storage/store.js';
import type { PlanChanges } from '../storage/repositories/plans.js';
import type { Device, Maintainer, Plan, Release } from '../storage/repositories/records.js';
import { isEmailAddress } from '../notifications/address.js';
import { SluiceError } from '../errors.js';
import { validateWindow } from '../domain/windows.js';
import {
  transitionPlan,
  defaultDeadline,
  validatePlanWindows,
  lateJoiningStatuses,
  liveStatuses,
  type PlanEvent,
  type PlanStatus,
} from '../domain/plans.js';
import { assignWaves, lateDeviceWave, type WaveSpec } from '../domain/waves.js';
import { releaseMisfit, sortByFit, type DeviceMisfit } from '../domain/release-fit.js';
import { renderPlanDocument, internalNotesKey } from './plan-document.js';
import { planView } from './plan-view.js';
import { notify } from '../notifications/outbox.js';

export interface CreatePlanInput {
  customer: string;
  release: string;
  devices?: string[];
  windows: unknown[];
  waves?: WaveSpec[];
  deadline?: string;
  notes?: string;
  /** For the vendor only: kept in details (plan-document.ts internalNotesKey), never shown to the customer. */
  internalNotes?: string;
  maxConcurrent?: number;
  expectedInstallSeconds?: number;
  seed?: string;
}

export const defaultExpectedInstallSeconds = 900;

/** A new plan's row: what every kind starts with. */
export function draftPlan(
  fields: Pick<
    Plan,
    | 'id'
    | 'kind'
    | 'customer'
    | 'release'
    | 'windows'
    | 'waves'
    | 'seed'
    | 'deadline'
    | 'notes'
    | 'details'
    | 'maxConcurrent'
    | 'expectedInstallSeconds'
    | 'createdBy'
  >,
  now: Date,
): Plan {
  return {
    ...fields,
    status: 'draft',
    pausedFrom: null,
    confirmedWindow: null,
    confirmedBy: null,
    confirmedAt: null,
    maintainer: null,
    counterComment: null,
    documentVersion: 0,
    overdueReason: null,
    createdAt: now,
    updatedAt: now,
  };
}

export async function createPlan(context: SluiceContext, input: CreatePlanInput, actor: string, store: Store = context.store) {
  const now = context.options.now();
  const customer = await store.customers.get(input.customer);
  if (!customer) throw new SluiceError('unknown_customer', `no customer "${input.customer}"`);
  const release = await store.releases.get(input.release);
  if (!release) throw new SluiceError('unknown_release', `no release "${input.release}"`);
  if (release.yankedAt)
    throw new SluiceError(
      'release_yanked',
      `release ${release.product} ${release.version} was yanked: ${release.yankReason || 'no reason given'}`,
    );
  const windows = input.windows.map((window) => validateWindow(window));
  if (windows.length === 0) throw new SluiceError('invalid_window', 'a plan needs at least one window');
  // Contract: an upgrade that does not disrupt the customer's business is done within one month.
  const deadline = input.deadline ? new Date(input.deadline) : defaultDeadline(release.publishedAt);
  if (Number.isNaN(deadline.getTime())) throw new SluiceError('validation_failed', 'deadline is not a date-time');
  validatePlanWindows(windows, deadline, now);
  const { deviceIds, excluded } = await resolveDevices(store, input.customer, release, input.devices);
  const id = randomUUID();
  const plan = draftPlan(
    {
      id,
      kind: 'upgrade',
      customer: input.customer,
      release: release.id,
      windows,
      waves: input.waves ?? [],
      seed: input.seed ?? id,
      deadline,
      notes: input.notes ?? '',
      details: input.internalNotes ? { [internalNotesKey]: input.internalNotes } : null,
      maxConcurrent: input.maxConcurrent ?? null,
      expectedInstallSeconds: input.expectedInstallSeconds ?? defaultExpectedInstallSeconds,
      createdBy: actor,
    },
    now,
  );
  await store.transaction(async (tx) => {
    await tx.plans.insert(plan);
    await tx.plans.addDevices(id, deviceIds, now);
    await tx.audit.record({
      at: now,
      actor,
      action: 'plan.create',
      subject: `plan:${id}`,
      details: { customer: input.customer, release: release.id, devices: deviceIds.length, ...(excluded.length ? { excluded } : {}) },
    });
  });
  return { ...(await planView(context, plan, now, store)), excluded };
}

/**
 * Default: all the customer's devices of the release's product (DESIGN.md) that the release's
 * manifest fits; those it does not fit are left out and listed, as hawkBit and Mender filter
 * an implicit target set. Devices named explicitly are the caller's word: one that does not
 * fit refuses the whole plan, listing every such device, rather than being dropped unseen.
 */
async function resolveDevices(
  store: Store,
  customer: string,
  release: Release,
  requested?: string[],
): Promise<{ deviceIds: string[]; excluded: DeviceMisfit[] }> {
  const terms = release.manifest.signed;
  const fleet = await store.devices.list({ customer });
  if (!requested) {
    const { fitting, misfits } = sortByFit(
      terms,
      fleet.filter((device) => device.product === release.product),
    );
    return { deviceIds: fitting.map((device) => device.id), excluded: misfits };
  }
  const own = new Map(fleet.map((device) => [device.id, device]));
  const unique = [...new Set(requested)];
  const named: Device[] = [];
  for (const id of unique) {
    const device = own.get(id);
    if (!device) {
      // Not the customer's: say whether it exists at all.
      if (await store.devices.get(id)) throw new SluiceError('customer_mismatch', `device ${id} belongs to another customer`);
      throw new SluiceError('unknown_device', `no device "${id}"`);
    }
    named.push(device);
  }
  const { misfits } = sortByFit(terms, named);
  if (misfits.length > 0) {
    const listed = misfits
      .slice(0, 3)
      .map((misfit) => `${misfit.device} (${misfit.message})`)
      .join('; ');
    throw new SluiceError(
      'release_mismatch',
      `${misfits.length} of the devices named do not fit ${release.product} ${release.version}: ${listed}${misfits.length > 3 ? '; …' : ''}`,
      { devices: misfits },
    );
  }
  return { deviceIds: unique, excluded: [] };
}

export async function loadPlan(context: SluiceContext, id: string, store: Store = context.store): Promise<Plan> {
  const plan = await store.plans.get(id);
  if (!plan) throw new SluiceError('not_found', `no plan "${id}"`);
  return plan;
}

async function lockPlan(tx: Store, id: string): Promise<Plan> {
  const plan = await tx.plans.getForUpdate(id);
  if (!plan) throw new SluiceError('not_found', `no plan "${id}"`);
  return plan;
}

/**
 * One lifecycle step: the transition table decides, then the change and its audit row commit
 * together. The update is conditional on the status read, so a step another request or
 * process took first is not taken (or audited) again: null then.
 */
export async function applyTransition(
  tx: Store,
  plan: Plan,
  event: PlanEvent,
  actor: string,
  at: Date,
  changes: PlanChanges = {},
  details: Record<string, unknown> = {},
): Promise<PlanStatus | null> {
  const next = transitionPlan(plan.status, event, plan.pausedFrom);
  if (!(await tx.plans.transition(plan.id, plan.status, next, changes, at))) return null;
  await tx.audit.record({
    at,
    actor,
    action: `plan.${event}`,
    subject: `plan:${plan.id}`,
    details: { from: plan.status, to: next, ...details },
  });
  const heard = planNotifications[event];
  if (heard) {
    await notify(tx, {
      event: heard,
      subject: `plan:${plan.id}`,
      customer: plan.customer,
      at,
      data: {
        plan: plan.id,
        kind: plan.kind,
        release: plan.release,
        from: plan.status,
        to: next,
        actor,
        deadline: plan.deadline.toISOString(),
        ...details,
      },
    });
  }
  return next;
}

/** The lifecycle steps someone must hear of (notifications/events.ts). */
const planNotifications: Partial<Record<PlanEvent, 'plan.proposed' | 'plan.countered' | 'plan.confirmed' | 'plan.paused'>> = {
  propose: 'plan.proposed',
  counter: 'plan.countered',
  confirm: 'plan.confirmed',
  pause: 'plan.paused',
};

/** A step someone asked for: it happens, or the caller learns that the plan moved meanwhile. */
async function requireTransition(...args: Parameters<typeof applyTransition>): Promise<PlanStatus> {
  const next = await applyTransition(...args);
  if (next === null)
    throw new SluiceError('illegal_transition', `plan ${args[1].id} changed meanwhile; read it again`, { status: args[1].status });
  return next;
}

export async function proposePlan(context: SluiceContext, id: string, input: { windows?: unknown[] }, actor: string) {
  const now = context.options.now();
  await context.store.transaction(async (tx) => {
    const plan = await lockPlan(tx, id);
    transitionPlan(plan.status, 'propose'); // refuse early, before any validation work
    const windows = input.windows ? input.windows.map((window) => validateWindow(window)) : plan.windows;
    validatePlanWindows(windows, plan.deadline, now);
    const version = plan.documentVersion + 1;
    const document = await renderPlanDocument(tx, { ...plan, windows, documentVersion: version }, version, now);
    await tx.plans.insertDocument({
      plan: id,
      version,
      markdown: document.markdown,
      html: document.html,
      createdBy: actor,
      createdAt: now,
    });
    await requireTransition(tx, plan, 'propose', actor, now, { windows, documentVersion: version }, { documentVersion: version });
  });
  return planView(context, await loadPlan(context, id), now);
}

export async function counterPlan(
  context: SluiceContext,
  id: string,
  customer: string,
  input: { windows: unknown[]; comment: string },
  actor: string,
) {
  const now = context.options.now();
  await context.store.transaction(async (tx) => {
    const plan = await lockPlan(tx, id);
    if (plan.customer !== customer) throw new SluiceError('not_found', `no plan "${id}"`);
    transitionPlan(plan.status, 'counter');
    const windows = input.windows.map((window) => validateWindow(window));
    if (windows.length === 0) throw new SluiceError('invalid_window', 'propose at least one window');
    validatePlanWindows(windows, plan.deadline, now);
    await requireTransition(
      tx,
      plan,
      'counter',
      actor,
      now,
      { windows, counterComment: input.comment },
      { windows, comment: input.comment },
    );
  });
  return planView(context, await loadPlan(context, id), now);
}

export async function confirmPlan(
  context: SluiceContext,
  id: string,
  customer: string,
  input: { window: number; maintainer: Maintainer },
  actor: string,
) {
  const now = context.options.now();
  await context.store.transaction(async (tx) => {
    const plan = await lockPlan(tx, id);
    if (plan.customer !== customer) throw new SluiceError('not_found', `no plan "${id}"`);
    transitionPlan(plan.status, 'confirm');
    if (input.maintainer.email !== undefined && !isEmailAddress(input.maintainer.email))
      throw new SluiceError('validation_failed', `maintainer.email: ${JSON.stringify(input.maintainer.email)} is not an e-mail address`);
    if (!Number.isInteger(input.window) || input.window < 0 || input.window >= plan.windows.length) {
      throw new SluiceError('invalid_window_index', `window ${input.window} was not proposed; choose 0 to ${plan.windows.length - 1}`);
    }
    // Waves are drawn at confirmation, at random but reproducibly from the plan's seed.
    const devices = (await tx.plans.devices(id)).map((device) => device.device);
    await tx.plans.drawWaves(id, assignWaves(devices, plan.waves, plan.seed), now);
    await requireTransition(
      tx,
      plan,
      'confirm',
      actor,
      now,
      {
        confirmedWindow: input.window,
        confirmedBy: actor,
        confirmedAt: now,
        maintainer: input.maintainer,
      },
      { window: input.window, maintainer: input.maintainer },
    );
  });
  return planView(context, await loadPlan(context, id), now);
}

export async function simpleTransition(
  context: SluiceContext,
  id: string,
  event: 'pause' | 'resume' | 'cancel',
  actor: string,
  reason?: string,
) {
  const now = context.options.now();
  await context.store.transaction(async (tx) => {
    const plan = await lockPlan(tx, id);
    if (event === 'resume' && plan.release) {
      // A plan the yank paused stays paused: nothing of a yanked release is offered again.
      const release = await tx.releases.get(plan.release);
      if (release?.yankedAt)
        throw new SluiceError(
          'release_yanked',
          `release ${release.product} ${release.version} was yanked: the plan cannot resume; cancel it`,
        );
    }
    const changes: PlanChanges = {};
    if (event === 'pause') changes.pausedFrom = plan.status;
    if (event === 'resume') changes.pausedFrom = null;
    await requireTransition(tx, plan, event, actor, now, changes, reason ? { reason } : {});
  });
  return planView(context, await loadPlan(context, id), now);
}

/**
 * Devices that join the customer after a plan's waves were drawn join its last wave rather
 * than being forgotten (issue: plans, "Waves"; the rule is the domain's lateDeviceWave),
 * when the plan's release fits them (domain/release-fit.ts); one it does not fit is left out,
 * and the audit log says why. Runs inside the transaction that created the device.
 *
 * A yanked release stops (DESIGN.md, "Trust model"): its live plans pause, in the yank's
 * transaction, each by the conditional transition, so that the pause and its audit row
 * happen once whichever process yanked.
 */
export function registerPlanListeners(context: SluiceContext): void {
  context.events.on('device.created', async ({ device: id, at }, tx) => {
    const device = await tx.devices.get(id);
    if (!device) return;
    for (const plan of await tx.plans.ofCustomerProduct(device.customer, device.product, lateJoiningStatuses)) {
      const release = plan.release ? await tx.releases.get(plan.release) : undefined;
      const misfit = release ? releaseMisfit(release.manifest.signed, device) : null;
      if (misfit) {
        await tx.audit.record({
          at,
          actor: 'system',
          action: 'plan.device_left_out',
          subject: `plan:${plan.id}`,
          details: { device: id, ...misfit },
        });
        continue;
      }
      const wave = lateDeviceWave(plan.waves);
      if (!(await tx.plans.joinLate(plan.id, id, wave, at))) continue;
      await tx.audit.record({
        at,
        actor: 'system',
        action: 'plan.device_joined',
        subject: `plan:${plan.id}`,
        details: { device: id, wave },
      });
    }
  });
  context.events.on('release.yanked', async ({ release: id, actor, at }, tx) => {
    const release = await tx.releases.get(id);
    if (!release) return;
    const reason = `release ${release.product} ${release.version} was yanked${release.yankReason ? `: ${release.yankReason}` : ''}`;
    for (const plan of await tx.plans.list({ release: id, kind: 'upgrade' })) {
      if (!liveStatuses.has(plan.status)) continue;
      await applyTransition(tx, plan, 'pause', actor, at, { pausedFrom: plan.status }, { reason, release: id });
    }
  });
}
