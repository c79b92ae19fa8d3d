// Users and their credentials.
import { Type, type Static } from 'typebox';
import { roles } from '../server/auth/principal.js';
import { Identifier, Nullable, Timestamp } from './common.js';

const Role = Type.Enum(roles);
export const Password = Type.String({ minLength: 10, maxLength: 200 });
export const CreateUser = Type.Object(
  {
    username: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' }),
    role: Role,
    customer: Type.Optional(Identifier),
    password: Type.Optional(Password),
  },
  { additionalProperties: false },
);
export const CreatedUser = Type.Object({ id: Type.String(), token: Type.String({ description: 'shown once' }) });
export const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: Role,
  customer: Nullable(Type.String()),
  hasPassword: Type.Boolean(),
  createdAt: Timestamp,
});
export type UserType = Static<typeof User>;
export const UserQuery = Type.Object({ username: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false });
export const IssuedToken = Type.Object({
  id: Type.String(),
  token: Type.String({ description: 'shown once' }),
  revoked: Type.Integer({ description: 'tokens revoked by this rotation' }),
});
export const RevokedTokens = Type.Object({ id: Type.String(), revoked: Type.Integer() });
export const PasswordChange = Type.Object(
  { password: Password, currentPassword: Type.Optional(Type.String({ maxLength: 200 })) },
  { additionalProperties: false },
);
export const PasswordChanged = Type.Object({ id: Type.String(), sessionsEnded: Type.Integer() });
