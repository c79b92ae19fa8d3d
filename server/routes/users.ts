// POST /api/v1/users: admin creates users; the token is shown once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorReplies, Identifier } from '../http/schemas.js';
import { createUser } from '../storage/identity.js';
import { hashPassword } from '../auth/passwords.js';
import { recordAudit } from '../audit.js';
import { actorOf, roles } from '../auth/principal.js';

const CreateUser = Type.Object({
  username: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' }),
  role: Type.Union(roles.map((role) => Type.Literal(role))),
  customer: Type.Optional(Identifier),
  password: Type.Optional(Type.String({ minLength: 10, maxLength: 200 })),
}, { additionalProperties: false });

const usersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, options } = app.sluice;
  app.post('/api/v1/users', {
    config: { access: ['admin'] },
    schema: {
      tags: ['identity'],
      body: CreateUser,
      response: { 201: Type.Object({ id: Type.String(), token: Type.String() }), ...errorReplies },
    },
  }, async (request, reply) => {
    const passwordHash = request.body.password ? await hashPassword(request.body.password) : null;
    const now = options.now();
    const created = db.transaction(() => {
      const user = createUser(db, { ...request.body, passwordHash }, now);
      recordAudit(db, { at: now, actor: actorOf(request.principal), action: 'user.create', subject: `user:${request.body.username}`, details: { role: request.body.role, customer: request.body.customer ?? null } });
      return user;
    })();
    return reply.status(201).send(created);
  });
};
export default usersRoutes;
