// POST /api/v1/commissioning: a commissioning plan, stored as a plan of kind "commissioning"
// so that propose, counter, confirm, the written document, the calendar and the audit are the
// upgrade plan's own (GET/POST /api/v1/plans/:id/...).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { randomUUID } from 'node:crypto';
import { errorReplies, Identifier } from '../http/schemas.js';
import { actorOf } from '../auth/principal.js';
import { SluiceError } from '../errors.js';
import { validateWindow } from '../domain/windows.js';
import { validatePlanWindows } from '../domain/plans.js';
import { validateCommissioning } from '../domain/commissioning.js';
import { planView } from '../services/plan-view.js';
import { draftPlan } from '../services/plans.js';

const commissioningRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.sluice;
  const { store, options } = context;
  app.post('/api/v1/commissioning', {
    config: { access: ['support', 'admin'] },
    schema: {
      tags: ['plans'],
      body: Type.Object({
        customer: Identifier,
        mode: Type.Union([Type.Literal('remote'), Type.Literal('on_site')]),
        date: Type.String({ format: 'date-time' }),
        equipment: Type.Array(Type.Object({ type: Type.String({ minLength: 1, maxLength: 200 }), count: Type.Integer({ minimum: 1, maximum: 100000 }) }, { additionalProperties: false }), { maxItems: 100 }),
        services: Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { maxItems: 100 }),
        engineers: Type.Array(Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), phone: Type.Optional(Type.String({ maxLength: 50 })) }, { additionalProperties: false }), { maxItems: 50 }),
        windows: Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1, maxItems: 20 }),
        notes: Type.Optional(Type.String({ maxLength: 20000 })),
      }, { additionalProperties: false }),
      response: { 201: Type.Object({ id: Type.String(), status: Type.String(), kind: Type.String() }, { additionalProperties: true }), ...errorReplies },
    },
  }, async (request, reply) => {
    const now = options.now();
    const { customer, windows, notes, ...details } = request.body;
    if (!(await store.customers.get(customer))) throw new SluiceError('unknown_customer', `no customer "${customer}"`);
    validateCommissioning(details, now);
    const validWindows = windows.map((window) => validateWindow(window));
    const deadline = new Date(new Date(details.date).getTime() + 7 * 86400_000);
    validatePlanWindows(validWindows, deadline, now);
    const id = randomUUID();
    const actor = actorOf(request.principal);
    const plan = draftPlan({
      id, kind: 'commissioning', customer, release: null, windows: validWindows, waves: [], seed: id, deadline, notes: notes ?? '',
      details: { ...details }, maxConcurrent: null, expectedInstallSeconds: 3600, createdBy: actor,
    }, now);
    await store.transaction(async (tx) => {
      await tx.plans.insert(plan);
      await tx.audit.record({ at: now, actor, action: 'plan.create', subject: `plan:${id}`, details: { kind: 'commissioning', customer } });
    });
    return reply.status(201).send(await planView(context, plan, now));
  });
};
export default commissioningRoutes;
