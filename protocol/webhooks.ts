// Webhooks (docs/notifications.md): who receives which events by a signed JSON POST.
import { Type, type Static } from 'typebox';
import { notificationEvents } from '../server/notifications/events.js';
import { Timestamp } from './common.js';

export const EventName = Type.Union(
  notificationEvents.map((name) => Type.Literal(name)),
  { description: 'an event of docs/notifications.md' },
);

export const CreateWebhook = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2000, description: 'http(s) URL the events are POSTed to; redirects are not followed' }),
    events: Type.Array(EventName, { minItems: 1, maxItems: notificationEvents.length, uniqueItems: true }),
    secret: Type.String({ minLength: 16, maxLength: 200, description: 'key of the X-Sluice-Signature HMAC-SHA256; never shown again' }),
  },
  { additionalProperties: false },
);
export type CreateWebhookType = Static<typeof CreateWebhook>;

export const Webhook = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    events: Type.Array(Type.String()),
    createdBy: Type.String(),
    createdAt: Timestamp,
  },
  { additionalProperties: false, description: 'a webhook, without its secret' },
);
