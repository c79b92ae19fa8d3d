// POST /api/v1/commissioning: a commissioning plan, stored as a plan of kind "commissioning"
// so that propose, counter, confirm, the written document, the calendar and the audit are the
// upgrade plan's own (GET/POST /api/v1/plans/:id/...).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { randomUUID } from 'node:crypto';
import { errorReplies, Identifier } from '../http/schemas.js';
import { actorOf } from '../auth/principal.js';
import { SluiceError } from '../errors.js';
import { recordAudit } from '../audit.js';
import { getCustomer } from '../storage/identity.js';
import { getPlanRow, insertPlan } from '../storage/plans.js';
import { validateWindow } from '../domain/windows.js';
import { validatePlanWindows } from '../domain/plans.js';
import { validateCommissioning } from '../domain/commissioning.js';
import { planView } from '../services/plan-view.js';

const commissioningRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.sluice;
  const { db, options } = context;
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
    if (!getCustomer(db, customer)) throw new SluiceError('unknown_customer', `no customer "${customer}"`);
    validateCommissioning(details, now);
    const validWindows = windows.map((window) => validateWindow(window));
    const deadline = new Date(new Date(details.date).getTime() + 7 * 86400_000);
    validatePlanWindows(validWindows, deadline, now);
    const id = randomUUID();
    db.transaction(() => {
      insertPlan(db, {
        id, kind: 'commissioning', customer, release: null, status: 'draft', paused_from: null, windows: JSON.stringify(validWindows), waves: '[]', seed: id,
        deadline: deadline.toISOString(), notes: notes ?? '', details: JSON.stringify(details), max_concurrent: null, expected_install_seconds: 3600,
        confirmed_window: null, confirmed_by: null, confirmed_at: null, maintainer: null, counter_comment: null, document_version: 0, overdue_reason: null,
        created_by: actorOf(request.principal), created_at: now.toISOString(), updated_at: now.toISOString(),
      });
      recordAudit(db, { at: now, actor: actorOf(request.principal), action: 'plan.create', subject: `plan:${id}`, details: { kind: 'commissioning', customer } });
    })();
    return reply.status(201).send(planView(context, getPlanRow(db, id)!, now));
  });
};
export default commissioningRoutes;
