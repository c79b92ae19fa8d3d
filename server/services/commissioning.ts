// A commissioning plan's draft (DESIGN.md: it follows the upgrade plan's lifecycle and
// document), shared by POST /api/v1/commissioning and the console's form.
import { randomUUID } from 'node:crypto';
import type { SluiceContext } from '../context.js';
import { SluiceError } from '../errors.js';
import { validateWindow } from '../domain/windows.js';
import { validatePlanWindows } from '../domain/plans.js';
import { validateCommissioning, type CommissioningDetails } from '../domain/commissioning.js';
import { draftPlan } from './plans.js';
import { planView } from './plan-view.js';

/** A commissioning plan may run until a week after its date. */
const deadlineAfterDateMs = 7 * 86400_000;

export async function createCommissioningPlan(
  context: SluiceContext,
  input: CommissioningDetails & { customer: string; windows: unknown[]; notes?: string },
  actor: string,
) {
  const { store, options } = context;
  const now = options.now();
  const { customer, windows, notes, ...details } = input;
  if (!(await store.customers.get(customer))) throw new SluiceError('unknown_customer', `no customer "${customer}"`);
  validateCommissioning(details, now);
  const validWindows = windows.map((window) => validateWindow(window));
  const deadline = new Date(new Date(details.date).getTime() + deadlineAfterDateMs);
  validatePlanWindows(validWindows, deadline, now);
  const id = randomUUID();
  const plan = draftPlan(
    {
      id,
      kind: 'commissioning',
      customer,
      release: null,
      windows: validWindows,
      waves: [],
      seed: id,
      deadline,
      notes: notes ?? '',
      details: { ...details },
      maxConcurrent: null,
      expectedInstallSeconds: 3600,
      createdBy: actor,
    },
    now,
  );
  await store.transaction(async (tx) => {
    await tx.plans.insert(plan);
    await tx.audit.record({ at: now, actor, action: 'plan.create', subject: `plan:${id}`, details: { kind: 'commissioning', customer } });
  });
  return planView(context, plan, now);
}

/** The deadline a commissioning plan dated `date` gets (for messages in local time). */
export const commissioningDeadline = (date: Date) => new Date(date.getTime() + deadlineAfterDateMs);
