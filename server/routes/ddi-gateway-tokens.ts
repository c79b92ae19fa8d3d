// Gateway tokens for hawkBit DDI clients: one per tenant, created (shown once) and revoked by
// support; stored as hashes like every other token.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { randomUUID } from 'node:crypto';
import { errorReplies, IdParams } from '../http/schemas.js';
import { generateToken, hashToken } from '../auth/tokens.js';
import { actorOf } from '../auth/principal.js';
import { SluiceError } from '../errors.js';

const ddiGatewayTokenRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, options } = app.sluice;
  app.post('/api/v1/ddi/gateway-tokens', {
    config: { access: ['support', 'admin'] },
    schema: { tags: ['hawkBit DDI'], response: { 201: Type.Object({ id: Type.String(), tenant: Type.String(), token: Type.String() }), ...errorReplies } },
  }, async (request, reply) => {
    const id = randomUUID();
    const token = generateToken('g');
    const now = options.now();
    const actor = actorOf(request.principal);
    await store.transaction(async (tx) => {
      await tx.ddi.insertGatewayToken({ id, hash: hashToken(token), tenant: options.ddiTenant, createdBy: actor, createdAt: now });
      await tx.audit.record({ at: now, actor, action: 'ddi.gateway_token.create', subject: `gateway-token:${id}` });
    });
    return reply.status(201).send({ id, tenant: options.ddiTenant, token });
  });
  app.post('/api/v1/ddi/gateway-tokens/:id/revoke', {
    config: { access: ['support', 'admin'] },
    schema: { tags: ['hawkBit DDI'], params: IdParams, response: { 200: Type.Object({ id: Type.String(), revokedAt: Type.String() }), ...errorReplies } },
  }, async (request) => {
    const now = options.now();
    await store.transaction(async (tx) => {
      // Revoked once: only the request that revoked it audits it.
      if (!(await tx.ddi.revokeGatewayToken(request.params.id, now))) throw new SluiceError('not_found', `no live gateway token "${request.params.id}"`);
      await tx.audit.record({ at: now, actor: actorOf(request.principal), action: 'ddi.gateway_token.revoke', subject: `gateway-token:${request.params.id}` });
    });
    return { id: request.params.id, revokedAt: now.toISOString() };
  });
};
export default ddiGatewayTokenRoutes;
