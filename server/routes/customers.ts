import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IANAZone } from 'luxon';
import { Contract, CreateCustomer, Customer, CustomerParams, errors, SaveContract, type CustomerType } from '../../protocol/index.js';
import { contractTerms, termsChanged, type ContractTerms } from '../domain/contract-terms.js';
import type { Customer as CustomerRecord } from '../storage/repositories/records.js';
import { actorOf, customerScope } from '../auth/principal.js';
import { SluiceError } from '../errors.js';

const toCustomer = (customer: CustomerRecord): CustomerType => ({
  id: customer.id,
  name: customer.name,
  timezone: customer.timezone,
  createdAt: customer.createdAt.toISOString(),
});

const contractView = (customer: string, terms: ContractTerms) => ({
  customer,
  classes: terms,
  changed: Object.keys(termsChanged(terms)),
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

  // A customer's contract terms (docs/notifications.md, "Contract terms"): admin sets them,
  // staff and the customer itself read them; fault clocks, warnings and the SLA report count by them.
  const existing = async (id: string, scope: string | null) => {
    if ((scope && scope !== id) || !(await store.customers.get(id))) throw new SluiceError('not_found', `no customer "${id}"`);
  };
  app.get(
    '/api/v1/customers/:id/contract',
    {
      config: { access: ['admin', 'support', 'customer'] },
      schema: {
        tags: ['service desk'],
        summary: "A customer's contract terms: per fault class, the acknowledge clock and how it counts",
        params: CustomerParams,
        response: { 200: Contract, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      await existing(request.params.id, customerScope(request.principal));
      const own = (await store.customers.contractTerms([request.params.id])).get(request.params.id);
      return contractView(request.params.id, contractTerms(own));
    },
  );
  app.put(
    '/api/v1/customers/:id/contract',
    {
      config: { access: ['admin'] },
      schema: {
        tags: ['service desk'],
        summary: "Set a customer's contract terms (classes left out have the seed's)",
        params: CustomerParams,
        body: SaveContract,
        response: { 200: Contract, ...errors(400, 401, 403, 404, 413, 415, 422, 429) },
      },
    },
    async (request) => {
      const { id } = request.params;
      await existing(id, null);
      const terms = contractTerms(request.body.classes);
      const changed = termsChanged(terms);
      const now = options.now();
      const actor = actorOf(request.principal);
      await store.transaction(async (tx) => {
        await tx.customers.saveContractTerms(id, changed, actor, now);
        await tx.audit.record({ at: now, actor, action: 'customer.contract', subject: `customer:${id}`, details: { classes: changed } });
      });
      return contractView(id, terms);
    },
  );
};
export default customersRoutes;
