// Schemas shared by several routes. Every route declares body, params, query and replies
// with TypeBox; fastify validates with them and @fastify/swagger turns them into /docs.
import { Type, type Static } from 'typebox';

export const ErrorReply = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: true }) },
  { $id: 'ErrorReply', description: 'DESIGN.md error shape' },
);
export type ErrorReplyType = Static<typeof ErrorReply>;

const errorRef = Type.Ref('ErrorReply');
/** The 4xx replies any authenticated route may give; spread into `response`. */
export const errorReplies = {
  400: errorRef,
  401: errorRef,
  403: errorRef,
  404: errorRef,
  409: errorRef,
  413: errorRef,
  422: errorRef,
} as const;

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
export const Identifier = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description: 'letters, digits, dot, dash, underscore' });
export const Timestamp = Type.String({ format: 'date-time' });
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
