// POST /api/v1/commissioning: a commissioning plan, stored as a plan of kind "commissioning"
// so that propose, counter, confirm, the written document, the calendar and the audit are the
// upgrade plan's own (GET/POST /api/v1/plans/:id/...).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CreateCommissioning, errors, Plan } from '../../protocol/index.js';
import { actorOf } from '../auth/principal.js';
import { createCommissioningPlan } from '../services/commissioning.js';

const commissioningRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.sluice;
  app.post(
    '/api/v1/commissioning',
    {
      config: { access: ['support', 'admin'] },
      schema: {
        tags: ['plans'],
        summary: 'Draft a commissioning plan (then propose, confirm and read it as a plan)',
        body: CreateCommissioning,
        response: { 201: Plan, ...errors(400, 401, 403, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => reply.status(201).send(await createCommissioningPlan(context, request.body, actorOf(request.principal))),
  );
};
export default commissioningRoutes;
