// Products.
import { Type, type Static } from 'typebox';
import { Identifier, Timestamp } from './common.js';

export const CreateProduct = Type.Object(
  { id: Identifier, name: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
export const Product = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Timestamp });
export type ProductType = Static<typeof Product>;
