// Liveness and the audit log.
import { Type, type Static } from 'typebox';
import { freeFormTitle, Nullable, Timestamp } from './common.js';

export const Health = Type.Object({ status: Type.Literal('ok') });

export const AuditQuery = Type.Object(
  {
    subject: Type.Optional(Type.String({ maxLength: 300 })),
    action: Type.Optional(Type.String({ maxLength: 100 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    before: Type.Optional(Type.Integer({ minimum: 1, description: 'entries with a smaller id: the next page' })),
  },
  { additionalProperties: false },
);
export const AuditEntry = Type.Object({
  id: Type.Integer(),
  at: Timestamp,
  actor: Type.String(),
  action: Type.String(),
  subject: Type.String(),
  // What each action records differs (its values are scalars, lists or small objects).
  details: Nullable(
    Type.Record(Type.String(), Type.Unknown(), {
      title: freeFormTitle('audit details'),
      description: 'facts the action recorded, by name; each action records its own',
    }),
  ),
});
export type AuditEntryType = Static<typeof AuditEntry>;
