import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IANAZone } from 'luxon';
import { errorReplies, Identifier } from '../http/schemas.js';
import { createCustomer, listCustomers, type CustomerRow } from '../storage/identity.js';
import { recordAudit } from '../audit.js';
import { actorOf, customerScope } from '../auth/principal.js';
import { SluiceError } from '../errors.js';

const Customer = Type.Object({ id: Type.String(), name: Type.String(), timezone: Type.String(), createdAt: Type.String() });
const toCustomer = (row: CustomerRow) => ({ id: row.id, name: row.name, timezone: row.timezone, createdAt: row.created_at });

const customersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, options } = app.sluice;
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
    const row = db.transaction(() => {
      const created = createCustomer(db, request.body, now);
      recordAudit(db, { at: now, actor: actorOf(request.principal), action: 'customer.create', subject: `customer:${created.id}` });
      return created;
    })();
    return reply.status(201).send(toCustomer(row));
  });
  app.get('/api/v1/customers', {
    config: { access: ['admin', 'support', 'customer'] },
    schema: { tags: ['fleet'], response: { 200: Type.Array(Customer), ...errorReplies } },
  }, async (request) => listCustomers(db, customerScope(request.principal)).map(toCustomer));
};
export default customersRoutes;
