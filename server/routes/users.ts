// POST /api/v1/users: admin creates users; the token is shown once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorReplies, Identifier } from '../http/schemas.js';
import { hashPassword } from '../auth/passwords.js';
import { actorOf, roles } from '../auth/principal.js';
import { SluiceError } from '../errors.js';

const CreateUser = Type.Object({
  username: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' }),
  role: Type.Union(roles.map((role) => Type.Literal(role))),
  customer: Type.Optional(Identifier),
  password: Type.Optional(Type.String({ minLength: 10, maxLength: 200 })),
}, { additionalProperties: false });

const usersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, options } = app.sluice;
  app.post('/api/v1/users', {
    config: { access: ['admin'] },
    schema: {
      tags: ['identity'],
      body: CreateUser,
      response: { 201: Type.Object({ id: Type.String(), token: Type.String() }), ...errorReplies },
    },
  }, async (request, reply) => {
    const { username, role, customer } = request.body;
    if (role === 'customer' && !customer) throw new SluiceError('validation_failed', 'a customer user needs "customer"');
    if (role !== 'customer' && customer) throw new SluiceError('validation_failed', 'only customer users belong to a customer');
    const passwordHash = request.body.password ? await hashPassword(request.body.password) : null;
    const now = options.now();
    const created = await store.transaction(async (tx) => {
      if (customer && !(await tx.customers.get(customer))) throw new SluiceError('unknown_customer', `no customer "${customer}"`);
      const user = await tx.users.create({ username, role, customer, passwordHash }, now);
      await tx.audit.record({ at: now, actor: actorOf(request.principal), action: 'user.create', subject: `user:${username}`, details: { role, customer: customer ?? null } });
      return user;
    });
    return reply.status(201).send(created);
  });
};
export default usersRoutes;
