// The notifications sent for a fault or a plan (server/notifications/), as staff see them on
// the fault's and the plan's page: each event, and to whom it went, by which channel, with how
// many attempts and how it ended. Customers' pages do not show it: recipients are staff too.
import { html, type Html } from './html.js';
import { dataTable } from './table.js';
import { zonedTime } from './time.js';
import type { Store } from '../storage/store.js';

export async function notificationsPanel(store: Store, subject: string, zone: string): Promise<Html> {
  const notifications = await store.notifications.list({ subjects: [subject], limit: 50 });
  const deliveries = await store.notifications.deliveriesOf(notifications.map((notification) => notification.id));
  const rows = notifications.map((notification) => {
    const sent = deliveries.filter((delivery) => delivery.notification === notification.id);
    const to =
      sent.length === 0
        ? 'nobody subscribed'
        : sent
            .map(
              (delivery) =>
                `${delivery.channel} to ${delivery.address}: ${delivery.status}${delivery.attempts > 1 ? ` after ${delivery.attempts} attempts` : ''}`,
            )
            .join('; ');
    return [notification.event, zonedTime(notification.createdAt.toISOString(), zone), to];
  });
  return html`<h2>Notifications sent</h2>
    ${dataTable(['Event', 'When', 'Delivered'], rows, { empty: 'No notification yet.' })}`;
}
