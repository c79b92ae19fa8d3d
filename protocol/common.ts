// Small schemas many resources share.
import { Type, type TSchema } from 'typebox';

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
export const Identifier = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  description: 'letters, digits, dot, dash, underscore',
});
export const Timestamp = Type.String({ format: 'date-time' });
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** A reply without a body (204, or hawkBit's empty 200), stated so /docs shows it. */
export const NoContent = Type.Null({ description: 'no body' });
/** Bytes, not JSON: an artifact, a bundle, a document. */
export const Binary = (description: string) => Type.String({ format: 'binary', description });

export const Signature = Type.Object(
  {
    keyid: Type.String({ description: 'hex SHA-256 of the raw public key' }),
    sig: Type.String({ description: 'base64 Ed25519 signature over the canonical JSON of "signed"' }),
  },
  { additionalProperties: false },
);

/**
 * A signed document `{ signed, signatures }`. The signature covers every field of `signed`,
 * so its schema stays open: a field a later version adds must survive serialization, or
 * the copy a client gets no longer verifies (test/contract/openapi.test.ts allows exactly
 * these open objects, by their title).
 */
export const Signed = <T extends TSchema>(signed: T, maxSignatures = 64) =>
  Type.Object({ signed, signatures: Type.Array(Signature, { maxItems: maxSignatures }) }, { additionalProperties: false });

/** The title that marks a signed payload, an object that must stay open (see Signed). */
export const signedPayloadTitle = (name: string) => `${name} (signed payload)`;
/**
 * The title that marks a free-form object: facts whose names differ with what happened (an
 * audit entry's details, an event's data). test/contract/openapi.test.ts allows open objects
 * only with one of these two titles, so an open object is always a decision, never a stub.
 */
export const freeFormTitle = (name: string) => `${name} (free-form)`;
