// Upgrade plans over HTTP (DESIGN.md, "HTTP API"): support drafts and proposes; the
// customer confirms or counters; everyone allowed reads the written plan.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  Binary,
  ConfirmBody,
  CounterBody,
  CreatedPlan,
  CreatePlan,
  DocumentQuery,
  errors,
  IdParams,
  Plan,
  PlanQuery,
  ProposeBody,
  ReasonBody,
} from '../../protocol/index.js';
import { actorOf, assertCustomerScope, customerScope, requireUser } from '../auth/principal.js';
import { SluiceError } from '../errors.js';
import { createPlan, proposePlan, counterPlan, confirmPlan, simpleTransition, loadPlan } from '../services/plans.js';
import { planView } from '../services/plan-view.js';
import { planCalendar } from '../services/plan-calendar.js';

const plansRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.sluice;
  const { store, options } = context;

  const visiblePlan = async (request: { principal: Parameters<typeof assertCustomerScope>[0] }, id: string) => {
    const plan = await loadPlan(context, id);
    assertCustomerScope(request.principal, plan.customer);
    return plan;
  };

  app.post(
    '/api/v1/plans',
    {
      config: { access: ['support', 'admin'] },
      schema: {
        tags: ['plans'],
        summary: 'Draft an upgrade plan',
        body: CreatePlan,
        response: { 201: CreatedPlan, ...errors(400, 401, 403, 409, 410, 413, 415, 422, 429) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createPlan(context, request.body as Parameters<typeof createPlan>[1], actorOf(request.principal))),
  );

  app.get(
    '/api/v1/plans',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['plans'],
        summary: 'List plans with their progress',
        querystring: PlanQuery,
        response: { 200: Type.Array(Plan), ...errors(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const scope = customerScope(request.principal);
      if (scope && request.query.customer && request.query.customer !== scope) return [];
      const now = options.now();
      const plans = await store.plans.list({
        customer: scope ?? request.query.customer,
        status: request.query.status,
        kind: request.query.kind,
      });
      const views = [];
      for (const plan of plans) views.push(await planView(context, plan, now));
      return views;
    },
  );

  app.get(
    '/api/v1/plans/:id',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['plans'],
        summary: 'One plan with its progress per agent state and wave',
        params: IdParams,
        response: { 200: Plan, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => planView(context, await visiblePlan(request, request.params.id), options.now()),
  );

  app.post(
    '/api/v1/plans/:id/propose',
    {
      config: { access: ['support', 'admin'] },
      schema: {
        tags: ['plans'],
        params: IdParams,
        summary: 'Propose the plan to the customer',
        description: 'Freezes a new numbered version of the written plan. After a counter, send the windows to propose again.',
        body: ProposeBody,
        response: { 200: Plan, ...errors(400, 401, 403, 404, 409, 410, 413, 415, 422, 429) },
      },
    },
    async (request) => proposePlan(context, request.params.id, { windows: request.body.windows }, actorOf(request.principal)),
  );

  for (const event of ['pause', 'resume', 'cancel'] as const) {
    app.post(
      `/api/v1/plans/:id/${event}`,
      {
        config: { access: ['support', 'admin'] },
        schema: {
          tags: ['plans'],
          params: IdParams,
          summary: { pause: 'Pause a plan', resume: 'Resume a paused plan', cancel: 'Cancel a plan' }[event],
          body: ReasonBody,
          response: { 200: Plan, ...errors(400, 401, 403, 404, 409, 410, 413, 415, 429) },
        },
      },
      async (request) => simpleTransition(context, request.params.id, event, actorOf(request.principal), request.body.reason),
    );
  }

  app.post(
    '/api/v1/plans/:id/confirm',
    {
      config: { access: ['customer'] },
      schema: {
        tags: ['plans'],
        params: IdParams,
        summary: 'Confirm a proposed window and name the maintenance staff',
        body: ConfirmBody,
        response: { 200: Plan, ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429) },
      },
    },
    async (request) => {
      const user = requireUser(request.principal);
      return confirmPlan(context, request.params.id, user.customer!, request.body, actorOf(user));
    },
  );

  app.post(
    '/api/v1/plans/:id/counter',
    {
      config: { access: ['customer'] },
      schema: {
        tags: ['plans'],
        params: IdParams,
        summary: 'Counter: propose other windows',
        body: CounterBody,
        response: { 200: Plan, ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429) },
      },
    },
    async (request) => {
      const user = requireUser(request.principal);
      return counterPlan(context, request.params.id, user.customer!, request.body, actorOf(user));
    },
  );

  app.get(
    '/api/v1/plans/:id/document',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['plans'],
        summary: 'The written plan (HTML, or Markdown with ?format=md)',
        params: IdParams,
        querystring: DocumentQuery,
        produces: ['text/html', 'text/markdown'],
        response: { 200: Binary('the written plan, text/html or text/markdown'), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const plan = await visiblePlan(request, request.params.id);
      if (plan.documentVersion === 0) throw new SluiceError('not_found', 'the plan has not been proposed yet: there is no written plan');
      const version = request.query.version ?? plan.documentVersion;
      const document = await store.plans.document(plan.id, version);
      if (!document) throw new SluiceError('not_found', `no document version ${version}`);
      if (request.query.format === 'md') return reply.type('text/markdown; charset=utf-8').send(document.markdown);
      return reply.type('text/html; charset=utf-8').send(document.html);
    },
  );

  app.get(
    '/api/v1/plans/:id/calendar.ics',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['plans'],
        summary: 'The confirmed window as an iCalendar file',
        params: IdParams,
        produces: ['text/calendar'],
        response: { 200: Binary('text/calendar'), ...errors(400, 401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const plan = await visiblePlan(request, request.params.id);
      if (plan.confirmedWindow === null)
        throw new SluiceError('conflict', `the plan is ${plan.status}: a calendar exists once a window is confirmed`, {
          status: plan.status,
        });
      const now = options.now();
      await store.audit.record({ at: now, actor: actorOf(request.principal), action: 'plan.calendar', subject: `plan:${plan.id}` });
      const origin = options.publicUrl ?? `${request.protocol}://${request.headers.host}`;
      return reply
        .type('text/calendar; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="plan-${plan.id}.ics"`)
        .send(await planCalendar(store, plan, origin));
    },
  );
};
export default plansRoutes;
