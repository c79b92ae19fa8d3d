import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IANAZone } from 'luxon';
import { CreateCustomer, Customer, errors, type CustomerType } from '../../protocol/index.js';
import type { Customer as CustomerRecord } from '../storage/repositories/records.js';
import { actorOf, customerScope } from '../auth/principal.js';
import { SluiceError } from '../errors.js';

const toCustomer = (customer: CustomerRecord): CustomerType => ({
  id: customer.id,
  name: customer.name,
  timezone: customer.timezone,
  createdAt: customer.createdAt.toISOString(),
});

const customersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, options } = app.sluice;
  app.post(
    '/api/v1/customers',
    {
      config: { access: ['admin', 'support'] },
      schema: {
        tags: ['fleet'],
        summary: 'Create a customer',
        body: CreateCustomer,
        response: { 201: Customer, ...errors(400, 401, 403, 409, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      // Windows are always in the customer's IANA zone (DESIGN.md, "Maintenance windows").
      if (!IANAZone.isValidZone(request.body.timezone)) {
        throw new SluiceError('invalid_timezone', `"${request.body.timezone}" is not an IANA time zone`);
      }
      const now = options.now();
      const created = await store.transaction(async (tx) => {
        const customer = await tx.customers.create(request.body, now);
        await tx.audit.record({
          at: now,
          actor: actorOf(request.principal),
          action: 'customer.create',
          subject: `customer:${customer.id}`,
        });
        return customer;
      });
      return reply.status(201).send(toCustomer(created));
    },
  );
  app.get(
    '/api/v1/customers',
    {
      config: { access: ['admin', 'support', 'customer'] },
      schema: {
        tags: ['fleet'],
        summary: 'List customers (a customer sees itself)',
        response: { 200: Type.Array(Customer), ...errors(401, 403, 429) },
      },
    },
    async (request) => (await store.customers.list(customerScope(request.principal))).map(toCustomer),
  );
};
export default customersRoutes;
