// The events people hear of (DESIGN.md, "Notifications and service hours"; the names are the
// contract), and who hears of each by e-mail. Webhooks hear of the events they subscribed to.
import type { FaultClass } from '../domain/faults.js';
import type { Contact } from '../storage/repositories/notifications.js';

export const notificationEvents = [
  'fault.reported',
  'fault.acknowledged',
  'fault.clock_warning',
  'fault.breached',
  'fault.resolved',
  'plan.proposed',
  'plan.countered',
  'plan.confirmed',
  'plan.paused',
  'plan.overdue',
  'window.reminder',
  'support.consent_requested',
  'support.consent_expired',
  'release.yanked',
] as const;
export type NotificationEvent = (typeof notificationEvents)[number];

export const isNotificationEvent = (value: string): value is NotificationEvent => (notificationEvents as readonly string[]).includes(value);

/** What routing needs to know of an event beside its name. */
export interface EventFacts {
  customer: string | null;
  faultClass?: FaultClass | null;
}

type Audience = 'customer' | 'staff' | 'onCall' | 'escalation';

/** Classes whose new faults go to the on-call contacts at once (served 24×7). */
const urgentClasses: ReadonlySet<string> = new Set(['A', 'B']);

const audiences: Record<NotificationEvent, (facts: EventFacts) => Audience[]> = {
  'fault.reported': (facts) => (urgentClasses.has(facts.faultClass ?? '') ? ['onCall', 'customer'] : ['staff', 'customer']),
  'fault.acknowledged': () => ['customer'],
  'fault.clock_warning': () => ['onCall'],
  'fault.breached': () => ['onCall', 'escalation'],
  'fault.resolved': () => ['customer', 'staff'],
  // An answer is awaited from the customer.
  'plan.proposed': () => ['customer'],
  'plan.countered': () => ['staff'],
  'plan.confirmed': () => ['staff', 'customer'],
  'plan.paused': () => ['staff', 'customer'],
  'plan.overdue': () => ['staff', 'customer'],
  'window.reminder': () => ['staff', 'customer'],
  'support.consent_requested': () => ['customer'],
  'support.consent_expired': () => ['staff', 'customer'],
  'release.yanked': () => ['staff'],
};

const staffRoles: ReadonlySet<string> = new Set(['admin', 'support']);

/**
 * The contacts who get an e-mail of the event: the customer's own users (never another
 * customer's), support and admin staff, the on-call staff, the escalation contacts.
 */
export function mailRecipients(event: NotificationEvent, facts: EventFacts, contacts: readonly Contact[]): Contact[] {
  const wanted = new Set(audiences[event](facts));
  return contacts.filter((contact) => {
    if (contact.role === 'customer') return wanted.has('customer') && facts.customer !== null && contact.customer === facts.customer;
    if (!staffRoles.has(contact.role)) return false;
    return wanted.has('staff') || (wanted.has('onCall') && contact.onCall) || (wanted.has('escalation') && contact.escalation);
  });
}
