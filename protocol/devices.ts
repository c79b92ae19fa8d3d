// Devices: registration, the fleet list, one device's history and its credentials.
import { Type, type Static } from 'typebox';
import { Identifier, Nullable, Timestamp } from './common.js';

export const CreateDevice = Type.Object(
  {
    id: Identifier,
    customer: Identifier,
    product: Identifier,
    hardware: Type.String({ minLength: 1, maxLength: 100 }),
    version: Type.String({ minLength: 1, maxLength: 100, description: 'semver of the software it runs' }),
  },
  { additionalProperties: false },
);
export const CreatedDevice = Type.Object({ id: Type.String(), token: Type.String({ description: 'shown once; the agent\'s "token"' }) });
export const DeviceQuery = Type.Object(
  { customer: Type.Optional(Identifier), product: Type.Optional(Identifier) },
  { additionalProperties: false },
);

export const Device = Type.Object({
  id: Type.String(),
  customer: Type.String(),
  product: Type.String(),
  hardware: Type.String(),
  version: Type.String(),
  state: Nullable(Type.String({ description: 'the agent state it last reported' })),
  lastSeenAt: Nullable(Timestamp),
  createdAt: Timestamp,
});
export type DeviceType = Static<typeof Device>;
export const DeviceEvent = Type.Object({
  eventId: Type.String(),
  assignment: Nullable(Type.String()),
  plan: Nullable(Type.String()),
  release: Nullable(Type.String()),
  state: Type.String(),
  detail: Nullable(Type.String()),
  progress: Nullable(Type.Number()),
  at: Timestamp,
  receivedAt: Timestamp,
});
export type DeviceEventType = Static<typeof DeviceEvent>;
export const DeviceWithHistory = Type.Object({ device: Device, history: Type.Array(DeviceEvent) });

export const DeviceToken = Type.Object({ id: Type.String(), token: Type.String({ description: 'shown once' }), revoked: Type.Integer() });
export const DeviceTokensRevoked = Type.Object({ id: Type.String(), revoked: Type.Integer() });
