import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorReplies, Nullable } from '../http/schemas.js';
import type { AuditRecord } from '../storage/repositories/records.js';

const AuditEntry = Type.Object({
  id: Type.Integer(), at: Type.String(), actor: Type.String(), action: Type.String(), subject: Type.String(),
  details: Nullable(Type.Object({}, { additionalProperties: true })),
});

const toAuditEntry = (record: AuditRecord) => ({ ...record, at: record.at.toISOString() });

const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/v1/audit', {
    config: { access: ['admin', 'support'] },
    schema: {
      tags: ['ops'],
      querystring: Type.Object({
        subject: Type.Optional(Type.String({ maxLength: 300 })),
        action: Type.Optional(Type.String({ maxLength: 100 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        before: Type.Optional(Type.Integer({ minimum: 1 })),
      }, { additionalProperties: false }),
      response: { 200: Type.Array(AuditEntry), ...errorReplies },
    },
  }, async (request) => (await app.sluice.store.audit.list(request.query)).map(toAuditEntry));
};
export default auditRoutes;
