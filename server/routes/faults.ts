// Faults and the SLA report (DESIGN.md, "Faults and remote support").
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  AnswerQuestion,
  AskQuestion,
  errors,
  Fault,
  FaultQuery,
  FaultStepBody,
  IdParams,
  QuestionParams,
  ReportFault,
  SlaQuery,
  SlaReport,
} from '../../protocol/index.js';
import { actorOf, assertCustomerScope, customerScope, requireUser } from '../auth/principal.js';
import { SluiceError } from '../errors.js';
import { clockSettingOf, faultClockContexts, faultViews, openFault, slaRecord, takeFaultStep } from '../services/faults.js';
import { answerQuestion, askQuestion } from '../services/fault-questions.js';
import { parseFaultClass } from '../domain/faults.js';
import { slaReport } from '../domain/sla.js';

const faultsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.sluice;
  const { store, options } = context;

  const visibleFault = async (principal: Parameters<typeof assertCustomerScope>[0], id: string) => {
    const fault = await store.faults.get(id);
    if (!fault) throw new SluiceError('not_found', `no fault "${id}"`);
    assertCustomerScope(principal, fault.customer);
    return fault;
  };

  app.post(
    '/api/v1/faults',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['service desk'],
        summary: 'Report a fault; its contractual clocks start',
        body: ReportFault,
        response: { 201: Fault, ...errors(400, 401, 403, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const user = requireUser(request.principal);
      const customer = user.role === 'customer' ? user.customer! : request.body.customer;
      if (!customer) throw new SluiceError('validation_failed', 'name the "customer" the fault belongs to');
      if (user.role === 'customer' && request.body.customer && request.body.customer !== customer)
        throw new SluiceError('forbidden', 'customers report faults for their own customer only');
      const fault = await openFault(
        context,
        { ...request.body, class: parseFaultClass(request.body.class), customer, source: user.role === 'customer' ? 'customer' : 'staff' },
        actorOf(user),
      );
      // Null only for an agent's second fault on one failed update, never for a person's report.
      return reply.status(201).send((await faultViews(context, [fault!], options.now()))[0]);
    },
  );

  app.get(
    '/api/v1/faults',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['service desk'],
        summary: 'List faults with their due times',
        querystring: FaultQuery,
        response: { 200: Type.Array(Fault), ...errors(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const scope = customerScope(request.principal);
      if (scope && request.query.customer && request.query.customer !== scope) return [];
      const faults = await store.faults.list({
        customer: scope ?? request.query.customer,
        status: request.query.status,
        class: request.query.class,
        limit: 1000,
      });
      return faultViews(context, faults, options.now());
    },
  );

  app.get(
    '/api/v1/faults/:id',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['service desk'],
        summary: 'One fault with its due times',
        params: IdParams,
        response: { 200: Fault, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => (await faultViews(context, [await visibleFault(request.principal, request.params.id)], options.now()))[0],
  );

  // Acknowledging (processing started) and resolving are the vendor's acts; closing is the customer's too.
  for (const [event, access] of [
    ['acknowledge', ['support', 'admin']],
    ['resolve', ['support', 'admin']],
    ['close', ['support', 'admin', 'customer']],
  ] as const) {
    app.post(
      `/api/v1/faults/:id/${event}`,
      {
        config: { access },
        schema: {
          tags: ['service desk'],
          params: IdParams,
          summary: { acknowledge: 'Acknowledge a fault: processing started', resolve: 'Resolve a fault', close: 'Close a resolved fault' }[
            event
          ],
          body: FaultStepBody,
          response: { 200: Fault, ...errors(400, 401, 403, 404, 409, 413, 415, 429) },
        },
      },
      async (request) => {
        const fault = await takeFaultStep(context, request.params.id, event, actorOf(request.principal), {
          resolution: request.body.resolution,
          visibleTo: (found) => assertCustomerScope(request.principal, found.customer),
        });
        return (await faultViews(context, [fault], options.now()))[0];
      },
    );
  }

  app.post(
    '/api/v1/faults/:id/questions',
    {
      config: { access: ['support', 'admin'] },
      schema: {
        tags: ['service desk'],
        summary: 'Ask the customer a question: the clocks pause until it is answered',
        params: IdParams,
        body: AskQuestion,
        response: { 201: Fault, ...errors(400, 401, 403, 404, 409, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const fault = await visibleFault(request.principal, request.params.id);
      await askQuestion(context, fault, request.body.text, actorOf(request.principal));
      return reply.status(201).send((await faultViews(context, [fault], options.now()))[0]);
    },
  );

  app.post(
    '/api/v1/faults/:id/questions/:question/answer',
    {
      config: { access: ['customer'] },
      schema: {
        tags: ['service desk'],
        summary: "Answer the vendor's question: the clocks run again",
        params: QuestionParams,
        body: AnswerQuestion,
        response: { 200: Fault, ...errors(400, 401, 403, 404, 409, 413, 415, 429) },
      },
    },
    async (request) => {
      const fault = await visibleFault(request.principal, request.params.id);
      await answerQuestion(context, fault, request.params.question, request.body.answer, actorOf(request.principal));
      return (await faultViews(context, [fault], options.now()))[0];
    },
  );

  app.get(
    '/api/v1/sla/report',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['service desk'],
        summary: 'The SLA report: per class, what met its clock',
        description:
          'Per class A–D: count, median and p95 seconds to acknowledge and to resolve, the share that met each clock, breaches. Customers see their own faults only.',
        querystring: SlaQuery,
        response: { 200: SlaReport, ...errors(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const now = options.now();
      const to = request.query.to ? new Date(request.query.to) : now;
      const from = request.query.from ? new Date(request.query.from) : new Date(to.getTime() - 30 * 86400_000);
      if (from >= to) throw new SluiceError('validation_failed', '"from" must be before "to"');
      const scope = customerScope(request.principal);
      const faults = await store.faults.list({ customer: scope, reportedFrom: from, reportedBefore: to });
      // Each fault counts on its customer's terms, less its waits on the customer.
      const clocks = await faultClockContexts(context, faults);
      return slaReport(
        faults.map((fault) => slaRecord(fault, clocks.get(fault.id)!.pauses, clocks.get(fault.id)!.setting)),
        from,
        to,
        now,
        clockSettingOf(options),
      );
    },
  );
};
export default faultsRoutes;
