import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IANAZone } from 'luxon';
import { errorReplies, Identifier } from '../http/schemas.js';
import type { Customer as CustomerRecord } from '../storage/repositories/records.js';
import { actorOf, customerScope } from '../auth/principal.js';
import { SluiceError } from '../errors.js';

const Customer = Type.Object({ id: Type.String(), name: Type.String(), timezone: Type.String(), createdAt: Type.String() });
const toCustomer = (customer: CustomerRecord) => ({ id: customer.id, name: customer.name, timezone: customer.timezone, createdAt: customer.createdAt.toISOString() });

const customersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, options } = app.sluice;
  app.post('/api/v1/customers', {
    config: { access: ['admin', 'support'] },
    schema: {
      tags: ['fleet'],
      body: Type.Object({
        id: Identifier,
        name: Type.String({ minLength: 1, maxLength: 200 }),
        timezone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Madrid' }),
      }, { additionalProperties: false }),
      response: { 201: Customer, ...errorReplies },
    },
  }, async (request, reply) => {
    // Windows are always in the customer's IANA zone (DESIGN.md, "Maintenance windows").
    if (!IANAZone.isValidZone(request.body.timezone)) {
      throw new SluiceError('invalid_timezone', `"${request.body.timezone}" is not an IANA time zone`);
    }
    const now = options.now();
    const created = await store.transaction(async (tx) => {
      const customer = await tx.customers.create(request.body, now);
      await tx.audit.record({ at: now, actor: actorOf(request.principal), action: 'customer.create', subject: `customer:${customer.id}` });
      return customer;
    });
    return reply.status(201).send(toCustomer(created));
  });
  app.get('/api/v1/customers', {
    config: { access: ['admin', 'support', 'customer'] },
    schema: { tags: ['fleet'], response: { 200: Type.Array(Customer), ...errorReplies } },
  }, async (request) => (await store.customers.list(customerScope(request.principal))).map(toCustomer));
};
export default customersRoutes;
