// Gateway tokens for hawkBit DDI clients: one per tenant, created (shown once) and revoked by
// support; stored as hashes like every other token.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { randomUUID } from 'node:crypto';
import { errorReplies, IdParams } from '../http/schemas.js';
import { generateToken, hashToken } from '../auth/tokens.js';
import { actorOf } from '../auth/principal.js';
import { recordAudit } from '../audit.js';
import { SluiceError } from '../errors.js';

const ddiGatewayTokenRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, options } = app.sluice;
  app.post('/api/v1/ddi/gateway-tokens', {
    config: { access: ['support', 'admin'] },
    schema: { tags: ['hawkBit DDI'], response: { 201: Type.Object({ id: Type.String(), tenant: Type.String(), token: Type.String() }), ...errorReplies } },
  }, async (request, reply) => {
    const id = randomUUID();
    const token = generateToken('g');
    const now = options.now();
    db.transaction(() => {
      db.prepare('INSERT INTO ddi_gateway_tokens (id, hash, tenant, created_by, created_at) VALUES (?, ?, ?, ?, ?)').run(id, hashToken(token), options.ddiTenant, actorOf(request.principal), now.toISOString());
      recordAudit(db, { at: now, actor: actorOf(request.principal), action: 'ddi.gateway_token.create', subject: `gateway-token:${id}` });
    })();
    return reply.status(201).send({ id, tenant: options.ddiTenant, token });
  });
  app.post('/api/v1/ddi/gateway-tokens/:id/revoke', {
    config: { access: ['support', 'admin'] },
    schema: { tags: ['hawkBit DDI'], params: IdParams, response: { 200: Type.Object({ id: Type.String(), revokedAt: Type.String() }), ...errorReplies } },
  }, async (request) => {
    const now = options.now().toISOString();
    const result = db.prepare('UPDATE ddi_gateway_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, request.params.id);
    if (result.changes === 0) throw new SluiceError('not_found', `no live gateway token "${request.params.id}"`);
    recordAudit(db, { at: new Date(now), actor: actorOf(request.principal), action: 'ddi.gateway_token.revoke', subject: `gateway-token:${request.params.id}` });
    return { id: request.params.id, revokedAt: now };
  });
};
export default ddiGatewayTokenRoutes;
