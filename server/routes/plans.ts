// Upgrade plans over HTTP (DESIGN.md, "HTTP API"): support drafts and proposes; the
// customer confirms or counters; everyone allowed reads the written plan.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorReplies, Identifier, IdParams } from '../http/schemas.js';
import { actorOf, assertCustomerScope, customerScope, requireUser } from '../auth/principal.js';
import { SluiceError } from '../errors.js';
import { createPlan, proposePlan, counterPlan, confirmPlan, simpleTransition, loadPlan } from '../services/plans.js';
import { planView } from '../services/plan-view.js';
import { planCalendar } from '../services/plan-calendar.js';

const Window = Type.Union([
  Type.Object({ start: Type.String({ maxLength: 40 }), end: Type.String({ maxLength: 40 }), timezone: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
  Type.Object({ cron: Type.String({ maxLength: 120 }), duration: Type.String({ maxLength: 40 }), timezone: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
  Type.Object({ asap: Type.Literal(true) }, { additionalProperties: false }),
], { description: 'one-off {start,end,timezone} in local time, recurring {cron,duration,timezone}, or {asap:true} for emergencies' });

const FailureLimit = Type.Object({ percent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })), count: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false });
const Wave = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 100 })),
  percent: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 })),
  count: Type.Optional(Type.Integer({ minimum: 1 })),
  successThreshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  failureLimit: Type.Optional(FailureLimit),
  minFinished: Type.Optional(Type.Integer({ minimum: 0 })),
  soakSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
}, { additionalProperties: false });

const CreatePlan = Type.Object({
  customer: Identifier,
  release: Type.String({ minLength: 1, maxLength: 100 }),
  devices: Type.Optional(Type.Array(Identifier, { maxItems: 100000 })),
  windows: Type.Array(Window, { minItems: 1, maxItems: 20 }),
  waves: Type.Optional(Type.Array(Wave, { minItems: 1, maxItems: 20 })),
  deadline: Type.Optional(Type.String({ format: 'date-time' })),
  notes: Type.Optional(Type.String({ maxLength: 20000 })),
  maxConcurrent: Type.Optional(Type.Integer({ minimum: 1 })),
  expectedInstallSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
  seed: Type.Optional(Type.String({ maxLength: 100 })),
}, { additionalProperties: false });

const PlanReply = Type.Object({ id: Type.String(), status: Type.String() }, { additionalProperties: true });
const DocumentQuery = Type.Object({ format: Type.Optional(Type.Union([Type.Literal('html'), Type.Literal('md')])), version: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false });

const plansRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.sluice;
  const { store, options } = context;

  const visiblePlan = async (request: { principal: Parameters<typeof assertCustomerScope>[0] }, id: string) => {
    const plan = await loadPlan(context, id);
    assertCustomerScope(request.principal, plan.customer);
    return plan;
  };

  app.post('/api/v1/plans', {
    config: { access: ['support', 'admin'] },
    schema: { tags: ['plans'], body: CreatePlan, response: { 201: PlanReply, ...errorReplies, 410: Type.Ref('ErrorReply') } },
  }, async (request, reply) => reply.status(201).send(await createPlan(context, request.body as Parameters<typeof createPlan>[1], actorOf(request.principal))));

  app.get('/api/v1/plans', {
    config: { access: ['staff', 'customer'] },
    schema: {
      tags: ['plans'],
      querystring: Type.Object({ customer: Type.Optional(Identifier), status: Type.Optional(Type.String({ maxLength: 20 })), kind: Type.Optional(Type.String({ maxLength: 20 })) }, { additionalProperties: false }),
      response: { 200: Type.Array(PlanReply), ...errorReplies },
    },
  }, async (request) => {
    const scope = customerScope(request.principal);
    if (scope && request.query.customer && request.query.customer !== scope) return [];
    const now = options.now();
    const plans = await store.plans.list({ customer: scope ?? request.query.customer, status: request.query.status, kind: request.query.kind });
    const views = [];
    for (const plan of plans) views.push(await planView(context, plan, now));
    return views;
  });

  app.get('/api/v1/plans/:id', {
    config: { access: ['staff', 'customer'] },
    schema: { tags: ['plans'], params: IdParams, response: { 200: PlanReply, ...errorReplies } },
  }, async (request) => planView(context, await visiblePlan(request, request.params.id), options.now()));

  app.post('/api/v1/plans/:id/propose', {
    config: { access: ['support', 'admin'] },
    schema: {
      tags: ['plans'], params: IdParams,
      description: 'Freezes a new numbered version of the written plan. After a counter, send the windows to propose again.',
      body: Type.Object({ windows: Type.Optional(Type.Array(Window, { minItems: 1, maxItems: 20 })) }, { additionalProperties: false }),
      response: { 200: PlanReply, ...errorReplies },
    },
  }, async (request) => proposePlan(context, request.params.id, { windows: request.body.windows }, actorOf(request.principal)));

  for (const event of ['pause', 'resume', 'cancel'] as const) {
    app.post(`/api/v1/plans/:id/${event}`, {
      config: { access: ['support', 'admin'] },
      schema: {
        tags: ['plans'], params: IdParams,
        body: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false }),
        response: { 200: PlanReply, ...errorReplies, 410: Type.Ref('ErrorReply') },
      },
    }, async (request) => simpleTransition(context, request.params.id, event, actorOf(request.principal), request.body.reason));
  }

  app.post('/api/v1/plans/:id/confirm', {
    config: { access: ['customer'] },
    schema: {
      tags: ['plans'], params: IdParams,
      body: Type.Object({
        window: Type.Integer({ minimum: 0, description: 'index of a proposed window' }),
        maintainer: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), phone: Type.String({ minLength: 3, maxLength: 50 }) }, { additionalProperties: false }),
      }, { additionalProperties: false }),
      response: { 200: PlanReply, ...errorReplies },
    },
  }, async (request) => {
    const user = requireUser(request.principal);
    return confirmPlan(context, request.params.id, user.customer!, request.body, actorOf(user));
  });

  app.post('/api/v1/plans/:id/counter', {
    config: { access: ['customer'] },
    schema: {
      tags: ['plans'], params: IdParams,
      body: Type.Object({ windows: Type.Array(Window, { minItems: 1, maxItems: 20 }), comment: Type.String({ maxLength: 5000 }) }, { additionalProperties: false }),
      response: { 200: PlanReply, ...errorReplies },
    },
  }, async (request) => {
    const user = requireUser(request.principal);
    return counterPlan(context, request.params.id, user.customer!, request.body, actorOf(user));
  });

  app.get('/api/v1/plans/:id/document', {
    config: { access: ['staff', 'customer'] },
    schema: { tags: ['plans'], params: IdParams, querystring: DocumentQuery, response: { 200: Type.String(), ...errorReplies } },
  }, async (request, reply) => {
    const plan = await visiblePlan(request, request.params.id);
    if (plan.documentVersion === 0) throw new SluiceError('not_found', 'the plan has not been proposed yet: there is no written plan');
    const version = request.query.version ?? plan.documentVersion;
    const document = await store.plans.document(plan.id, version);
    if (!document) throw new SluiceError('not_found', `no document version ${version}`);
    if (request.query.format === 'md') return reply.type('text/markdown; charset=utf-8').send(document.markdown);
    return reply.type('text/html; charset=utf-8').send(document.html);
  });

  app.get('/api/v1/plans/:id/calendar.ics', {
    config: { access: ['staff', 'customer'] },
    schema: { tags: ['plans'], params: IdParams, response: { 200: Type.String(), ...errorReplies } },
  }, async (request, reply) => {
    const plan = await visiblePlan(request, request.params.id);
    if (plan.confirmedWindow === null) throw new SluiceError('conflict', `the plan is ${plan.status}: a calendar exists once a window is confirmed`, { status: plan.status });
    const now = options.now();
    await store.audit.record({ at: now, actor: actorOf(request.principal), action: 'plan.calendar', subject: `plan:${plan.id}` });
    const origin = options.publicUrl ?? `${request.protocol}://${request.headers.host}`;
    return reply.type('text/calendar; charset=utf-8').header('Content-Disposition', `attachment; filename="plan-${plan.id}.ics"`).send(await planCalendar(store, plan, origin));
  });
};
export default plansRoutes;
