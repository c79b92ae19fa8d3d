// The plan workflow (DESIGN.md, "Upgrade plans"): draft → proposed → confirmed → in_progress
// → completed, with countered, paused, cancelled, and overdue flagged. Rules come from the
// pure domain modules; this layer loads rows, applies a rule, writes rows and the audit log
// in one transaction.
import { randomUUID } from 'node:crypto';
import type { SluiceContext } from '../context.js';
import { SluiceError } from '../errors.js';
import { recordAudit } from '../audit.js';
import { getCustomer, getDevice, listDevices } from '../storage/identity.js';
import { getRelease } from '../storage/releases.js';
import {
  getPlanRow, insertPlan, insertPlanDevices, planDevices, setDeviceWave, updatePlan, upsertPlanWave, insertDocument, type PlanRow,
} from '../storage/plans.js';
import { validateWindow, type MaintenanceWindow } from '../domain/windows.js';
import { transitionPlan, defaultDeadline, validatePlanWindows, type PlanStatus } from '../domain/plans.js';
import { assignWaves, type WaveSpec } from '../domain/waves.js';
import { renderPlanDocument } from './plan-document.js';
import { planView } from './plan-view.js';

export interface CreatePlanInput {
  customer: string;
  release: string;
  devices?: string[];
  windows: unknown[];
  waves?: WaveSpec[];
  deadline?: string;
  notes?: string;
  maxConcurrent?: number;
  expectedInstallSeconds?: number;
  seed?: string;
}

export const defaultExpectedInstallSeconds = 900;

export function createPlan(context: SluiceContext, input: CreatePlanInput, actor: string) {
  const { db } = context;
  const now = context.options.now();
  const customer = getCustomer(db, input.customer);
  if (!customer) throw new SluiceError('unknown_customer', `no customer "${input.customer}"`);
  const release = getRelease(db, input.release);
  if (!release) throw new SluiceError('unknown_release', `no release "${input.release}"`);
  if (release.yankedAt) throw new SluiceError('release_yanked', `release ${release.product} ${release.version} was yanked: ${release.yankReason || 'no reason given'}`);
  const windows = input.windows.map((window) => validateWindow(window));
  if (windows.length === 0) throw new SluiceError('invalid_window', 'a plan needs at least one window');
  // Contract: an upgrade that does not disrupt the customer's business is done within one month.
  const deadline = input.deadline ? new Date(input.deadline) : defaultDeadline(new Date(release.publishedAt));
  if (Number.isNaN(deadline.getTime())) throw new SluiceError('validation_failed', 'deadline is not a date-time');
  validatePlanWindows(windows, deadline, now);
  const deviceIds = resolveDevices(context, input.customer, release.product, input.devices);
  const id = randomUUID();
  const row: PlanRow = {
    id, kind: 'upgrade', customer: input.customer, release: release.id, status: 'draft', paused_from: null,
    windows: JSON.stringify(windows), waves: JSON.stringify(input.waves ?? []), seed: input.seed ?? id, deadline: deadline.toISOString(),
    notes: input.notes ?? '', details: null, max_concurrent: input.maxConcurrent ?? null,
    expected_install_seconds: input.expectedInstallSeconds ?? defaultExpectedInstallSeconds,
    confirmed_window: null, confirmed_by: null, confirmed_at: null, maintainer: null, counter_comment: null,
    document_version: 0, overdue_reason: null, created_by: actor, created_at: now.toISOString(), updated_at: now.toISOString(),
  };
  db.transaction(() => {
    insertPlan(db, row);
    insertPlanDevices(db, id, deviceIds, now);
    recordAudit(db, { at: now, actor, action: 'plan.create', subject: `plan:${id}`, details: { customer: input.customer, release: release.id, devices: deviceIds.length } });
  })();
  return planView(context, getPlanRow(db, id)!, now);
}

/** Default: all the customer's devices of the release's product (DESIGN.md). */
function resolveDevices(context: SluiceContext, customer: string, product: string, requested?: string[]): string[] {
  if (!requested) return listDevices(context.db, { customer, product }).map((device) => device.id);
  const unique = [...new Set(requested)];
  for (const id of unique) {
    const device = getDevice(context.db, id);
    if (!device) throw new SluiceError('unknown_device', `no device "${id}"`);
    if (device.customer !== customer) throw new SluiceError('customer_mismatch', `device ${id} belongs to another customer`);
    if (device.product !== product) throw new SluiceError('product_mismatch', `device ${id} is a ${device.product}, the release is for ${product}`);
  }
  return unique;
}

export function loadPlan(context: SluiceContext, id: string): PlanRow {
  const row = getPlanRow(context.db, id);
  if (!row) throw new SluiceError('not_found', `no plan "${id}"`);
  return row;
}

/** One lifecycle step: the transition table decides, then the change and its audit row commit together. */
export function applyTransition(
  context: SluiceContext, row: PlanRow, event: Parameters<typeof transitionPlan>[1], actor: string,
  changes: Partial<PlanRow> = {}, details: Record<string, unknown> = {},
): PlanStatus {
  const now = context.options.now();
  const next = transitionPlan(row.status as PlanStatus, event, row.paused_from as PlanStatus | null);
  updatePlan(context.db, row.id, { ...changes, status: next, updated_at: now.toISOString() });
  recordAudit(context.db, { at: now, actor, action: `plan.${event}`, subject: `plan:${row.id}`, details: { from: row.status, to: next, ...details } });
  return next;
}

export function proposePlan(context: SluiceContext, id: string, input: { windows?: unknown[] }, actor: string) {
  const { db } = context;
  const now = context.options.now();
  db.transaction(() => {
    const row = loadPlan(context, id);
    transitionPlan(row.status as PlanStatus, 'propose'); // refuse early, before any validation work
    const windows: MaintenanceWindow[] = input.windows ? input.windows.map((window) => validateWindow(window)) : JSON.parse(row.windows);
    validatePlanWindows(windows, new Date(row.deadline), now);
    const version = row.document_version + 1;
    const proposed = { ...row, windows: JSON.stringify(windows), document_version: version };
    const document = renderPlanDocument(context, proposed, version, now);
    insertDocument(db, { plan: id, version, markdown: document.markdown, html: document.html, created_by: actor, created_at: now.toISOString() });
    applyTransition(context, row, 'propose', actor, { windows: proposed.windows, document_version: version }, { documentVersion: version });
  })();
  return planView(context, loadPlan(context, id), now);
}

export function counterPlan(context: SluiceContext, id: string, customer: string, input: { windows: unknown[]; comment: string }, actor: string) {
  const now = context.options.now();
  context.db.transaction(() => {
    const row = loadPlan(context, id);
    if (row.customer !== customer) throw new SluiceError('not_found', `no plan "${id}"`);
    transitionPlan(row.status as PlanStatus, 'counter');
    const windows = input.windows.map((window) => validateWindow(window));
    if (windows.length === 0) throw new SluiceError('invalid_window', 'propose at least one window');
    validatePlanWindows(windows, new Date(row.deadline), now);
    applyTransition(context, row, 'counter', actor, { windows: JSON.stringify(windows), counter_comment: input.comment }, { windows, comment: input.comment });
  })();
  return planView(context, loadPlan(context, id), now);
}

export function confirmPlan(context: SluiceContext, id: string, customer: string, input: { window: number; maintainer: { name: string; phone: string } }, actor: string) {
  const { db } = context;
  const now = context.options.now();
  db.transaction(() => {
    const row = loadPlan(context, id);
    if (row.customer !== customer) throw new SluiceError('not_found', `no plan "${id}"`);
    transitionPlan(row.status as PlanStatus, 'confirm');
    const windows = JSON.parse(row.windows) as MaintenanceWindow[];
    if (!Number.isInteger(input.window) || input.window < 0 || input.window >= windows.length) {
      throw new SluiceError('invalid_window_index', `window ${input.window} was not proposed; choose 0 to ${windows.length - 1}`);
    }
    // Waves are drawn at confirmation, at random but reproducibly from the plan's seed.
    const devices = planDevices(db, id).map((device) => device.device);
    const specs = JSON.parse(row.waves) as WaveSpec[];
    const waves = assignWaves(devices, specs, row.seed);
    waves.forEach((members, wave) => {
      for (const device of members) setDeviceWave(db, id, device, wave);
      upsertPlanWave(db, { plan: id, wave, status: wave === 0 ? 'open' : 'pending', opened_at: wave === 0 ? now.toISOString() : null, finished_at: null });
    });
    applyTransition(context, row, 'confirm', actor, {
      confirmed_window: input.window, confirmed_by: actor, confirmed_at: now.toISOString(), maintainer: JSON.stringify(input.maintainer),
    }, { window: input.window, maintainer: input.maintainer });
  })();
  return planView(context, loadPlan(context, id), now);
}

export function simpleTransition(context: SluiceContext, id: string, event: 'pause' | 'resume' | 'cancel', actor: string, reason?: string) {
  const now = context.options.now();
  context.db.transaction(() => {
    const row = loadPlan(context, id);
    const changes: Partial<PlanRow> = {};
    if (event === 'pause') changes.paused_from = row.status;
    if (event === 'resume') changes.paused_from = null;
    applyTransition(context, row, event, actor, changes, reason ? { reason } : {});
  })();
  return planView(context, loadPlan(context, id), now);
}

/**
 * Devices that join the customer after a plan was confirmed join its last wave rather than
 * being forgotten (issue: plans, "Waves"). Runs inside the request that created the device.
 */
export function registerPlanListeners(context: SluiceContext): void {
  context.events.on('device.created', ({ device: id, at }) => {
    const { db } = context;
    const device = getDevice(db, id);
    if (!device) return;
    const plans = db.prepare(`SELECT p.* FROM plans p JOIN releases r ON r.id = p.release
                              WHERE p.customer = ? AND r.product = ? AND p.kind = 'upgrade' AND p.status IN ('confirmed', 'in_progress', 'paused')`)
      .all(device.customer, device.product) as PlanRow[];
    for (const plan of plans) {
      const lastWave = (db.prepare('SELECT MAX(wave) AS wave FROM plan_waves WHERE plan = ?').get(plan.id) as { wave: number | null }).wave ?? 0;
      insertPlanDevices(db, plan.id, [id], at);
      setDeviceWave(db, plan.id, id, lastWave);
      recordAudit(db, { at, actor: 'system', action: 'plan.device_joined', subject: `plan:${plan.id}`, details: { device: id, wave: lastWave } });
    }
  });
}
