// Faults and the SLA report (DESIGN.md, "Faults and remote support").
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorReplies, Identifier, IdParams } from '../http/schemas.js';
import { actorOf, assertCustomerScope, customerScope, requireUser } from '../auth/principal.js';
import { SluiceError } from '../errors.js';
import { faultView, openFault, slaRecord, takeFaultStep } from '../services/faults.js';
import { parseFaultClass, faultClasses } from '../domain/faults.js';
import { slaReport } from '../domain/sla.js';

const FaultReply = Type.Object({ id: Type.String(), status: Type.String(), class: Type.String() }, { additionalProperties: true });

const faultsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.sluice;
  const { store, options } = context;

  const visibleFault = async (principal: Parameters<typeof assertCustomerScope>[0], id: string) => {
    const fault = await store.faults.get(id);
    if (!fault) throw new SluiceError('not_found', `no fault "${id}"`);
    assertCustomerScope(principal, fault.customer);
    return fault;
  };

  app.post('/api/v1/faults', {
    config: { access: ['staff', 'customer'] },
    schema: {
      tags: ['service desk'],
      body: Type.Object({
        customer: Type.Optional(Identifier),
        device: Type.Optional(Identifier),
        class: Type.String({ maxLength: 1, description: 'A, B, C or D' }),
        severity: Type.Optional(Type.Union([Type.Literal('major'), Type.Literal('general')])),
        title: Type.String({ minLength: 1, maxLength: 300 }),
        description: Type.Optional(Type.String({ maxLength: 20000 })),
      }, { additionalProperties: false }),
      response: { 201: FaultReply, ...errorReplies },
    },
  }, async (request, reply) => {
    const user = requireUser(request.principal);
    const customer = user.role === 'customer' ? user.customer! : request.body.customer;
    if (!customer) throw new SluiceError('validation_failed', 'name the "customer" the fault belongs to');
    if (user.role === 'customer' && request.body.customer && request.body.customer !== customer) throw new SluiceError('forbidden', 'customers report faults for their own customer only');
    const fault = await openFault(context, { ...request.body, class: parseFaultClass(request.body.class), customer, source: user.role === 'customer' ? 'customer' : 'staff' }, actorOf(user));
    // Null only for an agent's second fault on one failed update, never for a person's report.
    return reply.status(201).send(faultView(fault!, options.now()));
  });

  app.get('/api/v1/faults', {
    config: { access: ['staff', 'customer'] },
    schema: {
      tags: ['service desk'],
      querystring: Type.Object({ customer: Type.Optional(Identifier), status: Type.Optional(Type.String({ maxLength: 20 })), class: Type.Optional(Type.String({ maxLength: 1 })) }, { additionalProperties: false }),
      response: { 200: Type.Array(FaultReply), ...errorReplies },
    },
  }, async (request) => {
    const scope = customerScope(request.principal);
    if (scope && request.query.customer && request.query.customer !== scope) return [];
    const faults = await store.faults.list({ customer: scope ?? request.query.customer, status: request.query.status, class: request.query.class, limit: 1000 });
    const now = options.now();
    return faults.map((fault) => faultView(fault, now));
  });

  app.get('/api/v1/faults/:id', {
    config: { access: ['staff', 'customer'] },
    schema: { tags: ['service desk'], params: IdParams, response: { 200: FaultReply, ...errorReplies } },
  }, async (request) => faultView(await visibleFault(request.principal, request.params.id), options.now()));

  // Acknowledging (processing started) and resolving are the vendor's acts; closing is the customer's too.
  for (const [event, access] of [['acknowledge', ['support', 'admin']], ['resolve', ['support', 'admin']], ['close', ['support', 'admin', 'customer']]] as const) {
    app.post(`/api/v1/faults/:id/${event}`, {
      config: { access },
      schema: {
        tags: ['service desk'], params: IdParams,
        body: Type.Object({ resolution: Type.Optional(Type.String({ maxLength: 20000 })) }, { additionalProperties: false }),
        response: { 200: FaultReply, ...errorReplies },
      },
    }, async (request) => {
      const fault = await takeFaultStep(context, request.params.id, event, actorOf(request.principal), {
        resolution: request.body.resolution, visibleTo: (found) => assertCustomerScope(request.principal, found.customer),
      });
      return faultView(fault, options.now());
    });
  }

  app.get('/api/v1/sla/report', {
    config: { access: ['staff', 'customer'] },
    schema: {
      tags: ['service desk'],
      description: 'Per class A–D: count, median and p95 seconds to acknowledge and to resolve, the share that met each clock, breaches. Customers see their own faults only.',
      querystring: Type.Object({ from: Type.Optional(Type.String({ format: 'date-time' })), to: Type.Optional(Type.String({ format: 'date-time' })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ from: Type.String(), to: Type.String(), generatedAt: Type.String(), classes: Type.Object(Object.fromEntries(faultClasses.map((name) => [name, Type.Object({}, { additionalProperties: true })]))) }), ...errorReplies },
    },
  }, async (request) => {
    const now = options.now();
    const to = request.query.to ? new Date(request.query.to) : now;
    const from = request.query.from ? new Date(request.query.from) : new Date(to.getTime() - 30 * 86400_000);
    if (from >= to) throw new SluiceError('validation_failed', '"from" must be before "to"');
    const scope = customerScope(request.principal);
    return slaReport((await store.faults.list({ customer: scope, reportedFrom: from, reportedBefore: to })).map(slaRecord), from, to, now);
  });
};
export default faultsRoutes;
