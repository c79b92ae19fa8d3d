// Gateway tokens for hawkBit DDI clients: each acts for one customer's devices only, created
// (shown once), rotated and revoked by support; stored as hashes like every other token.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { randomUUID } from 'node:crypto';
import {
  CreateGatewayToken,
  errors,
  GatewayToken,
  GatewayTokenQuery,
  IdParams,
  IssuedGatewayToken,
  RevokedGatewayToken,
  type GatewayTokenType,
} from '../../protocol/index.js';
import { generateToken, hashToken } from '../auth/tokens.js';
import { actorOf } from '../auth/principal.js';
import type { GatewayTokenRecord } from '../storage/repositories/ddi.js';
import { SluiceError } from '../errors.js';

const toGatewayToken = (token: GatewayTokenRecord): GatewayTokenType => ({
  id: token.id,
  tenant: token.tenant,
  customer: token.customer,
  createdBy: token.createdBy,
  createdAt: token.createdAt.toISOString(),
  revokedAt: token.revokedAt?.toISOString() ?? null,
});

const ddiGatewayTokenRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, options } = app.sluice;
  app.post(
    '/api/v1/ddi/gateway-tokens',
    {
      config: { access: ['support', 'admin'] },
      schema: {
        tags: ['hawkBit DDI'],
        summary: "Create a gateway token for one customer's devices",
        description: 'A gateway token for the devices of one customer (shown once).',
        body: CreateGatewayToken,
        response: { 201: IssuedGatewayToken, ...errors(400, 401, 403, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const { customer } = request.body;
      const id = randomUUID();
      const token = generateToken('g');
      const now = options.now();
      const actor = actorOf(request.principal);
      await store.transaction(async (tx) => {
        if (!(await tx.customers.get(customer))) throw new SluiceError('unknown_customer', `no customer "${customer}"`);
        await tx.ddi.insertGatewayToken({
          id,
          hash: hashToken(token),
          tenant: options.ddiTenant,
          customer,
          createdBy: actor,
          createdAt: now,
        });
        await tx.audit.record({
          at: now,
          actor,
          action: 'ddi.gateway_token.create',
          subject: `gateway-token:${id}`,
          details: { customer },
        });
      });
      return reply.status(201).send({ id, tenant: options.ddiTenant, customer, token });
    },
  );
  app.get(
    '/api/v1/ddi/gateway-tokens',
    {
      config: { access: ['support', 'admin'] },
      schema: {
        tags: ['hawkBit DDI'],
        summary: 'List gateway tokens',
        description:
          'Gateway tokens, revoked ones included (never the token itself). A token without a customer predates scoping and is no longer accepted.',
        querystring: GatewayTokenQuery,
        response: { 200: Type.Array(GatewayToken), ...errors(400, 401, 403, 429) },
      },
    },
    async (request) => (await store.ddi.gatewayTokens({ customer: request.query.customer })).map(toGatewayToken),
  );
  app.post(
    '/api/v1/ddi/gateway-tokens/:id/rotate',
    {
      config: { access: ['support', 'admin'] },
      schema: {
        tags: ['hawkBit DDI'],
        summary: "Rotate a gateway token's secret",
        description: 'A new secret for a live gateway token, same id and customer (shown once); the old secret stops working at once.',
        params: IdParams,
        response: { 201: IssuedGatewayToken, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const token = generateToken('g');
      const now = options.now();
      const rotated = await store.transaction(async (tx) => {
        if (!(await tx.ddi.replaceGatewayTokenHash(request.params.id, hashToken(token))))
          throw new SluiceError('not_found', `no live gateway token "${request.params.id}"`);
        const record = (await tx.ddi.gatewayTokenById(request.params.id))!;
        await tx.audit.record({
          at: now,
          actor: actorOf(request.principal),
          action: 'ddi.gateway_token.rotate',
          subject: `gateway-token:${record.id}`,
          details: { customer: record.customer },
        });
        return record;
      });
      return reply.status(201).send({ id: rotated.id, tenant: rotated.tenant, customer: rotated.customer!, token });
    },
  );
  app.post(
    '/api/v1/ddi/gateway-tokens/:id/revoke',
    {
      config: { access: ['support', 'admin'] },
      schema: {
        tags: ['hawkBit DDI'],
        summary: 'Revoke a gateway token',
        params: IdParams,
        response: { 200: RevokedGatewayToken, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const now = options.now();
      await store.transaction(async (tx) => {
        // Revoked once: only the request that revoked it audits it.
        if (!(await tx.ddi.revokeGatewayToken(request.params.id, now)))
          throw new SluiceError('not_found', `no live gateway token "${request.params.id}"`);
        await tx.audit.record({
          at: now,
          actor: actorOf(request.principal),
          action: 'ddi.gateway_token.revoke',
          subject: `gateway-token:${request.params.id}`,
        });
      });
      return { id: request.params.id, revokedAt: now.toISOString() };
    },
  );
};
export default ddiGatewayTokenRoutes;
