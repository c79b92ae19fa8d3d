// Customers.
import { Type, type Static } from 'typebox';
import { Identifier, Timestamp } from './common.js';

export const CreateCustomer = Type.Object(
  {
    id: Identifier,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    timezone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Madrid' }),
  },
  { additionalProperties: false },
);
export const Customer = Type.Object({ id: Type.String(), name: Type.String(), timezone: Type.String(), createdAt: Timestamp });
export type CustomerType = Static<typeof Customer>;
