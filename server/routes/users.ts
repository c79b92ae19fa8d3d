// Users and their credentials. An admin creates users (the token is shown once), rotates or
// revokes anyone's tokens and resets passwords; every other user may do the same for
// themselves only (`:id` may be `me`), and changes their own password with the current one.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  CreatedUser,
  CreateUser,
  errors,
  IdParams,
  IssuedToken,
  PasswordChange,
  PasswordChanged,
  RevokedTokens,
  User,
  UserQuery,
  type UserType,
} from '../../protocol/index.js';
import { hashPassword } from '../auth/passwords.js';
import { checkPassword } from '../auth/password-check.js';
import { actorOf, requireUser } from '../auth/principal.js';
import type { User as UserRecord } from '../storage/repositories/records.js';
import { SluiceError } from '../errors.js';

const toUser = (user: UserRecord): UserType => ({
  id: user.id,
  username: user.username,
  role: user.role,
  customer: user.customer,
  hasPassword: user.passwordHash !== null,
  createdAt: user.createdAt.toISOString(),
});

const usersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, options } = app.sluice;

  /** The user `:id` names, if the caller may manage it: admins any, others themselves (404 otherwise, as for a missing one). */
  const managed = async (request: FastifyRequest & { params: { id: string } }) => {
    const caller = requireUser(request.principal);
    const id = request.params.id === 'me' ? caller.id : request.params.id;
    const user = caller.role === 'admin' || id === caller.id ? await store.users.get(id) : undefined;
    if (!user) throw new SluiceError('not_found', `no user "${request.params.id}"`);
    return { caller, user, self: user.id === caller.id };
  };

  app.post(
    '/api/v1/users',
    {
      config: { access: ['admin'] },
      schema: {
        tags: ['identity'],
        summary: 'Create a user (its token is shown once)',
        body: CreateUser,
        response: { 201: CreatedUser, ...errors(400, 401, 403, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const { username, role, customer } = request.body;
      if (role === 'customer' && !customer) throw new SluiceError('validation_failed', 'a customer user needs "customer"');
      if (role !== 'customer' && customer) throw new SluiceError('validation_failed', 'only customer users belong to a customer');
      const passwordHash = request.body.password ? await hashPassword(request.body.password) : null;
      const now = options.now();
      const created = await store.transaction(async (tx) => {
        if (customer && !(await tx.customers.get(customer))) throw new SluiceError('unknown_customer', `no customer "${customer}"`);
        const user = await tx.users.create({ username, role, customer, passwordHash }, now);
        await tx.audit.record({
          at: now,
          actor: actorOf(request.principal),
          action: 'user.create',
          subject: `user:${username}`,
          details: { role, customer: customer ?? null },
        });
        return user;
      });
      return reply.status(201).send(created);
    },
  );

  app.get(
    '/api/v1/users',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['identity'],
        summary: 'List users',
        description: 'Users (never their tokens or password hashes); anyone but an admin sees only themselves.',
        querystring: UserQuery,
        response: { 200: Type.Array(User), ...errors(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const caller = requireUser(request.principal);
      const users = await store.users.list({ username: request.query.username, id: caller.role === 'admin' ? undefined : caller.id });
      return users.map(toUser);
    },
  );

  app.post(
    '/api/v1/users/:id/tokens',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['identity'],
        summary: "Rotate a user's token",
        description: 'Rotate: revoke every token of the user and issue a new one (shown once). `:id` may be `me`.',
        params: IdParams,
        response: { 201: IssuedToken, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const { user } = await managed(request);
      const now = options.now();
      const issued = await store.transaction(async (tx) => {
        const rotated = await tx.users.rotateToken(user.id, now);
        if (!rotated) throw new SluiceError('not_found', `no user "${request.params.id}"`);
        await tx.audit.record({
          at: now,
          actor: actorOf(request.principal),
          action: 'user.token.rotate',
          subject: `user:${user.username}`,
          details: { revoked: rotated.revoked },
        });
        return rotated;
      });
      return reply.status(201).send({ id: user.id, token: issued.token, revoked: issued.revoked });
    },
  );

  app.delete(
    '/api/v1/users/:id/tokens',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['identity'],
        summary: "Revoke a user's tokens",
        description: 'Revoke every token of the user; portal sessions are not ended. `:id` may be `me`.',
        params: IdParams,
        response: { 200: RevokedTokens, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const { user } = await managed(request);
      const now = options.now();
      const revoked = await store.transaction(async (tx) => {
        const count = await tx.users.revokeTokens(user.id, now);
        await tx.audit.record({
          at: now,
          actor: actorOf(request.principal),
          action: 'user.token.revoke',
          subject: `user:${user.username}`,
          details: { revoked: count },
        });
        return count;
      });
      return { id: user.id, revoked };
    },
  );

  app.put(
    '/api/v1/users/:id/password',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['identity'],
        summary: 'Change or reset a password',
        description:
          "Change one's own password (with `currentPassword` when one is set), or, as an admin, reset another user's. Ends the user's portal sessions.",
        params: IdParams,
        body: PasswordChange,
        response: { 200: PasswordChanged, ...errors(400, 401, 403, 404, 413, 415, 429) },
      },
    },
    async (request) => {
      const { user, self } = await managed(request);
      // A stolen token alone must not take over the portal account: one's own password changes
      // only with the current one, checked under the same limits as a sign-in.
      if (self && user.passwordHash) {
        const check = await checkPassword(store, user.username, request.body.currentPassword ?? '', request.ip, options.now());
        if (check.outcome === 'limited') {
          throw new SluiceError('rate_limited', `too many wrong passwords; try again in ${check.refusal.retryAfterSeconds} s`, {
            retryAfterSeconds: check.refusal.retryAfterSeconds,
          });
        }
        if (check.outcome === 'rejected') throw new SluiceError('password_incorrect', "currentPassword is not the user's password");
      }
      const passwordHash = await hashPassword(request.body.password);
      const now = options.now();
      const sessionsEnded = await store.transaction(async (tx) => {
        if (!(await tx.users.setPasswordHash(user.id, passwordHash))) throw new SluiceError('not_found', `no user "${request.params.id}"`);
        const ended = await tx.users.deleteSessionsOf(user.id);
        await tx.audit.record({
          at: now,
          actor: actorOf(request.principal),
          action: self ? 'user.password.change' : 'user.password.reset',
          subject: `user:${user.username}`,
          details: { sessionsEnded: ended },
        });
        return ended;
      });
      return { id: user.id, sessionsEnded };
    },
  );
};
export default usersRoutes;
