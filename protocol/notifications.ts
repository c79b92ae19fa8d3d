// The notifications sent (docs/notifications.md): each event, its deliveries per channel and
// recipient, and every delivery attempt; the e-mail contacts.
import { Type } from 'typebox';
import { freeFormTitle, Nullable, Timestamp } from './common.js';
import { EventName } from './webhooks.js';

export const NotificationQuery = Type.Object(
  {
    subject: Type.Optional(
      Type.String({
        maxLength: 300,
        description: 'what the events are about: fault:F-1001, plan:<id>, support-session:<id>, release:<id>',
      }),
    ),
    event: Type.Optional(EventName),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

const Attempt = Type.Object(
  { at: Timestamp, ok: Type.Boolean(), statusCode: Nullable(Type.Integer()), error: Nullable(Type.String()) },
  { additionalProperties: false },
);
const Delivery = Type.Object(
  {
    id: Type.String({ description: 'the stable X-Sluice-Delivery id' }),
    channel: Type.Union([Type.Literal('webhook'), Type.Literal('email')]),
    target: Type.String({ description: "webhook id, user name, or 'maintainer' (the window's maintenance staff)" }),
    address: Type.String({ description: 'URL or e-mail address' }),
    timezone: Type.String({ description: 'the zone dates are written in' }),
    locale: Type.String({ description: 'the BCP 47 language dates are written in' }),
    status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
    attempts: Type.Integer(),
    nextAttemptAt: Nullable(Timestamp),
    deliveredAt: Nullable(Timestamp),
    attemptLog: Type.Array(Attempt),
  },
  { additionalProperties: false },
);

export const NotificationReply = Type.Object(
  {
    id: Type.String(),
    event: Type.String(),
    subject: Type.String(),
    customer: Nullable(Type.String()),
    createdAt: Timestamp,
    link: Nullable(Type.String()),
    data: Type.Record(Type.String(), Type.Unknown(), {
      title: freeFormTitle('event data'),
      description: 'what the event says (docs/notifications.md); the webhook body carries the same',
    }),
    deliveries: Type.Array(Delivery),
  },
  { additionalProperties: false },
);

export const ContactParams = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }) });
export const SaveContact = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 320 }),
    timezone: Type.Optional(
      Nullable(
        Type.String({
          maxLength: 64,
          description: "IANA zone of the dates in this user's mail; default: the customer's zone, or the service-hours zone for staff",
        }),
      ),
    ),
    locale: Type.Optional(
      Nullable(
        Type.String({
          maxLength: 64,
          description: "BCP 47 language tag of the dates in this user's mail (es-ES, de); default en-GB",
        }),
      ),
    ),
    onCall: Type.Optional(Type.Boolean({ description: 'staff: receives class A and B faults at once, clock warnings and breaches' })),
    escalation: Type.Optional(Type.Boolean({ description: 'staff: the second contact a breach escalates to' })),
  },
  { additionalProperties: false },
);
export const Contact = Type.Object(
  {
    username: Type.String(),
    role: Type.String(),
    customer: Nullable(Type.String()),
    email: Type.String(),
    timezone: Nullable(Type.String()),
    locale: Nullable(Type.String()),
    onCall: Type.Boolean(),
    escalation: Type.Boolean(),
    updatedAt: Timestamp,
  },
  { additionalProperties: false },
);
