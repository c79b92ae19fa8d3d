// The outbox. `notify` writes an event in the caller's transaction (`tx`), so the event
// commits with the change that caused it or not at all; it needs nothing but the transaction,
// so any service can call it. The worker then fans each event out once (`fanOut`): one
// delivery per subscribed webhook and per e-mail recipient, and delivers those.
import { randomUUID } from 'node:crypto';
import type { SluiceContext } from '../context.js';
import type { Store } from '../storage/store.js';
import type { NewDelivery, Notification } from '../storage/repositories/notifications.js';
import type { FaultClass } from '../domain/faults.js';
import { mailRecipients, type EventFacts, type NotificationEvent } from './events.js';

export interface NotificationInput extends EventFacts {
  event: NotificationEvent;
  /** What it is about: `fault:F-1001`, `plan:…`, `support-session:…`, `release:…`. */
  subject: string;
  /** Decides the event once: a second record with the same key is a no-op. Default: unique. */
  key?: string;
  data: Record<string, unknown>;
  at: Date;
}

/** Records the event in `tx`; false when its key was recorded before (by any process). */
export async function notify(tx: Store, input: NotificationInput): Promise<boolean> {
  const id = randomUUID();
  const payload = {
    id,
    event: input.event,
    occurredAt: input.at.toISOString(),
    subject: input.subject,
    customer: input.customer,
    data: input.data,
  };
  return tx.notifications.record({
    id,
    event: input.event,
    key: input.key ?? `${input.event}:${input.subject}:${id}`,
    subject: input.subject,
    customer: input.customer,
    faultClass: input.faultClass ?? null,
    payload,
    createdAt: input.at,
  });
}

/** The delivery target of a window's maintenance staff (not a user: the address the customer gave). */
export const maintainerTarget = 'maintainer';

function maintainerOf(notification: Notification): string | null {
  const data = (notification.payload.data ?? {}) as { maintainer?: { email?: unknown } | null };
  return typeof data.maintainer?.email === 'string' ? data.maintainer.email : null;
}

/** The web page of a subject, on the server's public origin. */
export function subjectLink(context: SluiceContext, subject: string): string | null {
  const origin = (context.options.publicUrl ?? `http://${context.options.host}:${context.options.port}`).replace(/\/+$/, '');
  const separator = subject.indexOf(':');
  const [kind, id] = [subject.slice(0, separator), subject.slice(separator + 1)];
  if (kind === 'plan') return `${origin}/portal/plans/${encodeURIComponent(id)}`;
  if (kind === 'fault') return `${origin}/portal/faults#${encodeURIComponent(id)}`;
  if (kind === 'support-session') return `${origin}/portal/support`;
  return null;
}

/** The body every channel carries: the recorded payload and the subject's link. */
export function eventBody(context: SluiceContext, notification: Notification): Record<string, unknown> {
  return { ...notification.payload, link: subjectLink(context, notification.subject) };
}

/**
 * Decides the event's recipients and writes their deliveries, once (the conditional
 * update in fanOut): the webhooks subscribed now, and, with an SMTP relay configured, the
 * contacts the event's audience names (events.ts), each in their own zone.
 */
export async function fanOut(context: SluiceContext, notification: Notification, now: Date): Promise<boolean> {
  return context.store.transaction(async (tx) => {
    const deliveries: NewDelivery[] = [];
    for (const webhook of await tx.notifications.webhooks()) {
      if (webhook.events.includes(notification.event))
        deliveries.push({ id: randomUUID(), channel: 'webhook', target: webhook.id, address: webhook.url, timezone: 'UTC', locale: null });
    }
    // Without an SMTP relay there is no e-mail channel: nothing is queued that could never leave.
    const contacts = context.options.smtpUrl ? await tx.notifications.contacts() : [];
    const facts = { customer: notification.customer, faultClass: notification.faultClass as FaultClass | null };
    const customerZone = notification.customer ? (await tx.customers.get(notification.customer))?.timezone : undefined;
    for (const contact of mailRecipients(notification.event as NotificationEvent, facts, contacts)) {
      const zone = contact.timezone ?? (contact.role === 'customer' ? customerZone : undefined) ?? context.options.serviceHours.zone;
      const locale = contact.locale;
      deliveries.push({ id: randomUUID(), channel: 'email', target: contact.username, address: contact.email, timezone: zone, locale });
    }
    // The maintenance staff the customer named at confirmation hear of their window too, in the customer's zone.
    const maintainer = notification.event === 'window.reminder' ? maintainerOf(notification) : null;
    if (maintainer && context.options.smtpUrl)
      deliveries.push({
        id: randomUUID(),
        channel: 'email',
        target: maintainerTarget,
        address: maintainer,
        timezone: customerZone ?? context.options.serviceHours.zone,
        locale: null,
      });
    return tx.notifications.fanOut(notification.id, deliveries, now);
  });
}
