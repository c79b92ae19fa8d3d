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

const ClassTerms = Type.Object(
  {
    acknowledgeMinutes: Type.Integer({ minimum: 1, maximum: 20160, description: 'minutes processing may take to start' }),
    aroundTheClock: Type.Boolean({ description: "true: counts 24×7; false: counts within the vendor's service hours only" }),
  },
  { additionalProperties: false },
);
const classTermsOf = (describe: string) =>
  Type.Object(
    { A: Type.Optional(ClassTerms), B: Type.Optional(ClassTerms), C: Type.Optional(ClassTerms), D: Type.Optional(ClassTerms) },
    { additionalProperties: false, description: describe },
  );
export const CustomerParams = Type.Object({ id: Identifier });
export const SaveContract = Type.Object(
  { classes: classTermsOf("the classes whose clocks differ from the seed's table; a class left out has the seed's terms") },
  { additionalProperties: false },
);
export const Contract = Type.Object({
  customer: Type.String(),
  classes: Type.Object({ A: ClassTerms, B: ClassTerms, C: ClassTerms, D: ClassTerms }, { description: 'every class as its clocks count' }),
  changed: Type.Array(Type.String(), { description: "the classes whose terms are the customer's own, not the seed's" }),
});
