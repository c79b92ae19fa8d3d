// Remote support sessions: requested by support, consented by the customer, one bundle uploaded.
import { Type, type Static } from 'typebox';
import { sessionStatuses } from '../server/domain/support-sessions.js';
import { Identifier, Nullable, Timestamp } from './common.js';

export const collectors = ['logs', 'journal', 'system'] as const;
export const Collectors = Type.Array(Type.Enum(collectors), { minItems: 1, maxItems: 3 });
export const RequestSession = Type.Object(
  { device: Identifier, reason: Type.String({ minLength: 1, maxLength: 2000 }), collect: Collectors },
  { additionalProperties: false },
);
export const DecisionBody = Type.Object(
  { hours: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 24 * 14, description: 'consent lifetime, default 24' })) },
  { additionalProperties: false },
);

export const SupportSession = Type.Object({
  id: Type.String(),
  device: Type.String(),
  customer: Type.String(),
  reason: Type.String(),
  collect: Type.Array(Type.String()),
  status: Type.Enum(sessionStatuses),
  requestedBy: Type.String(),
  requestedAt: Timestamp,
  decidedBy: Nullable(Type.String()),
  decidedAt: Nullable(Timestamp),
  expiresAt: Nullable(Timestamp),
  withdrawnAt: Nullable(Timestamp),
  uploadedAt: Nullable(Timestamp),
  bundle: Nullable(Type.Object({ sha256: Type.String(), size: Type.Integer() })),
});
export type SupportSessionType = Static<typeof SupportSession>;
