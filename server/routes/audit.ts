import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AuditEntry, AuditQuery, errors, type AuditEntryType } from '../../protocol/index.js';
import type { AuditRecord } from '../storage/repositories/records.js';

const toAuditEntry = (record: AuditRecord): AuditEntryType => ({ ...record, at: record.at.toISOString() });

const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/v1/audit',
    {
      config: { access: ['admin', 'support'] },
      schema: {
        tags: ['ops'],
        summary: 'The audit log: who did what, when (newest first)',
        querystring: AuditQuery,
        response: { 200: Type.Array(AuditEntry), ...errors(400, 401, 403, 429) },
      },
    },
    async (request) => (await app.sluice.store.audit.list(request.query)).map(toAuditEntry),
  );
};
export default auditRoutes;
