// Notifications (issue 20): webhooks, e-mail contacts, the outbox of events with one delivery
// per recipient, every delivery attempt, and the delivery worker's lease. Every decision that
// several processes might race on is a conditional write whose changed-row count says who won:
// an event is recorded once (its unique key), a delivery is claimed once per attempt, the
// lease has one holder.
import type { SqlSession, SqlValue } from '../sql.js';
import { toDate, toDateOrNull } from './records.js';
import type { Role } from '../../auth/principal.js';

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  secret: string;
  createdBy: string;
  createdAt: Date;
}
export interface Contact {
  username: string;
  role: Role;
  customer: string | null;
  email: string;
  timezone: string | null;
  /** BCP 47 tag the contact reads dates in; null: the server's (mail.ts defaultMailLocale). */
  locale: string | null;
  onCall: boolean;
  escalation: boolean;
  updatedAt: Date;
}
export interface Notification {
  id: string;
  event: string;
  key: string;
  subject: string;
  customer: string | null;
  faultClass: string | null;
  payload: Record<string, unknown>;
  createdAt: Date;
  fannedOutAt: Date | null;
}
export type NewNotification = Omit<Notification, 'fannedOutAt'>;
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';
export interface Delivery {
  id: string;
  notification: string;
  channel: 'webhook' | 'email';
  target: string;
  address: string;
  timezone: string;
  locale: string | null;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  deliveredAt: Date | null;
}
export interface DeliveryAttempt {
  delivery: string;
  at: Date;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  worker: string;
}
export type NewDelivery = Pick<Delivery, 'id' | 'channel' | 'target' | 'address' | 'timezone' | 'locale'>;
/** A support session's wait on the customer: from the request to the customer's answer. */
export interface CustomerWait {
  device: string;
  start: Date;
  end: Date | null;
}

interface WebhookRow {
  id: string;
  url: string;
  events: string;
  secret: string;
  created_by: string;
  created_at: string;
}
interface ContactRow {
  username: string;
  role: Role;
  customer: string | null;
  email: string;
  timezone: string | null;
  locale: string | null;
  on_call: number;
  escalation: number;
  updated_at: string;
}
interface NotificationRow {
  id: string;
  event: string;
  event_key: string;
  subject: string;
  customer: string | null;
  fault_class: string | null;
  payload: string;
  created_at: string;
  fanned_out_at: string | null;
}
interface DeliveryRow {
  id: string;
  notification: string;
  channel: 'webhook' | 'email';
  target: string;
  address: string;
  timezone: string;
  locale: string | null;
  status: DeliveryStatus;
  attempts: number | string;
  next_attempt_at: string;
  delivered_at: string | null;
}
interface AttemptRow {
  delivery: string;
  at: string;
  ok: number;
  status_code: number | null;
  error: string | null;
  worker: string;
}

const toWebhook = (row: WebhookRow): Webhook => ({
  id: row.id,
  url: row.url,
  events: JSON.parse(row.events) as string[],
  secret: row.secret,
  createdBy: row.created_by,
  createdAt: toDate(row.created_at),
});
const toContact = (row: ContactRow): Contact => ({
  username: row.username,
  role: row.role,
  customer: row.customer,
  email: row.email,
  timezone: row.timezone,
  locale: row.locale ?? null,
  onCall: Number(row.on_call) === 1,
  escalation: Number(row.escalation) === 1,
  updatedAt: toDate(row.updated_at),
});
const toNotification = (row: NotificationRow): Notification => ({
  id: row.id,
  event: row.event,
  key: row.event_key,
  subject: row.subject,
  customer: row.customer,
  faultClass: row.fault_class,
  payload: JSON.parse(row.payload) as Record<string, unknown>,
  createdAt: toDate(row.created_at),
  fannedOutAt: toDateOrNull(row.fanned_out_at),
});
const toDelivery = (row: DeliveryRow): Delivery => ({
  id: row.id,
  notification: row.notification,
  channel: row.channel,
  target: row.target,
  address: row.address,
  timezone: row.timezone,
  locale: row.locale ?? null,
  status: row.status,
  attempts: Number(row.attempts),
  nextAttemptAt: toDate(row.next_attempt_at),
  deliveredAt: toDateOrNull(row.delivered_at),
});
const toAttempt = (row: AttemptRow): DeliveryAttempt => ({
  delivery: row.delivery,
  at: toDate(row.at),
  ok: Number(row.ok) === 1,
  statusCode: row.status_code === null ? null : Number(row.status_code),
  error: row.error,
  worker: row.worker,
});
const placeholders = (values: readonly unknown[]) => values.map(() => '?').join(', ');

export class NotificationRepository {
  constructor(private readonly sql: SqlSession) {}

  async createWebhook(webhook: Webhook): Promise<void> {
    await this.sql.run('INSERT INTO webhooks (id, url, events, secret, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
      webhook.id,
      webhook.url,
      JSON.stringify(webhook.events),
      webhook.secret,
      webhook.createdBy,
      webhook.createdAt.toISOString(),
    ]);
  }

  async webhooks(): Promise<Webhook[]> {
    return (await this.sql.all<WebhookRow>('SELECT * FROM webhooks WHERE deleted_at IS NULL ORDER BY created_at, id')).map(toWebhook);
  }

  /** Removes the webhook from future events; deliveries already recorded keep their address. */
  async deleteWebhook(id: string, now: Date): Promise<boolean> {
    const { changes } = await this.sql.run('UPDATE webhooks SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL', [
      now.toISOString(),
      id,
    ]);
    return changes === 1;
  }

  async saveContact(
    contact: Pick<Contact, 'username' | 'email' | 'timezone' | 'locale' | 'onCall' | 'escalation' | 'updatedAt'>,
  ): Promise<void> {
    await this.sql.run(
      `INSERT INTO notification_contacts (username, email, timezone, locale, on_call, escalation, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (username) DO UPDATE SET email = excluded.email, timezone = excluded.timezone, locale = excluded.locale,
         on_call = excluded.on_call, escalation = excluded.escalation, updated_at = excluded.updated_at`,
      [
        contact.username,
        contact.email,
        contact.timezone,
        contact.locale,
        contact.onCall ? 1 : 0,
        contact.escalation ? 1 : 0,
        contact.updatedAt.toISOString(),
      ],
    );
  }

  async deleteContact(username: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM notification_contacts WHERE username = ?', [username])).changes === 1;
  }

  /** Every contact with the user's role and customer. */
  async contacts(): Promise<Contact[]> {
    return (
      await this.sql.all<ContactRow>(
        `SELECT c.username, u.role, u.customer, c.email, c.timezone, c.locale, c.on_call, c.escalation, c.updated_at
       FROM notification_contacts c JOIN users u ON u.username = c.username ORDER BY c.username`,
      )
    ).map(toContact);
  }

  /**
   * Records an event, once per key: false (and nothing written) when an event with this key
   * was recorded before, by this process or another.
   */
  async record(notification: NewNotification): Promise<boolean> {
    const { changes } = await this.sql.run(
      `INSERT INTO notifications (id, event, event_key, subject, customer, fault_class, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (event_key) DO NOTHING`,
      [
        notification.id,
        notification.event,
        notification.key,
        notification.subject,
        notification.customer,
        notification.faultClass,
        JSON.stringify(notification.payload),
        notification.createdAt.toISOString(),
      ],
    );
    return changes === 1;
  }

  /** Events not yet fanned out to their recipients, oldest first. */
  async unfanned(limit: number): Promise<Notification[]> {
    return (
      await this.sql.all<NotificationRow>('SELECT * FROM notifications WHERE fanned_out_at IS NULL ORDER BY created_at, id LIMIT ?', [
        limit,
      ])
    ).map(toNotification);
  }

  /** Fans the event out once: its deliveries are written only by the caller whose update marked it. */
  async fanOut(notification: string, deliveries: readonly NewDelivery[], now: Date): Promise<boolean> {
    const { changes } = await this.sql.run('UPDATE notifications SET fanned_out_at = ? WHERE id = ? AND fanned_out_at IS NULL', [
      now.toISOString(),
      notification,
    ]);
    if (changes !== 1) return false;
    for (const delivery of deliveries) {
      await this.sql.run(
        `INSERT INTO notification_deliveries (id, notification, channel, target, address, timezone, locale, status, attempts, next_attempt_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?) ON CONFLICT (notification, channel, target) DO NOTHING`,
        [
          delivery.id,
          notification,
          delivery.channel,
          delivery.target,
          delivery.address,
          delivery.timezone,
          delivery.locale,
          now.toISOString(),
        ],
      );
    }
    return true;
  }

  async get(id: string): Promise<Notification | undefined> {
    const row = await this.sql.get<NotificationRow>('SELECT * FROM notifications WHERE id = ?', [id]);
    return row && toNotification(row);
  }

  async hasKey(key: string): Promise<boolean> {
    return (await this.sql.get('SELECT 1 AS found FROM notifications WHERE event_key = ?', [key])) !== undefined;
  }

  /** Newest first, by subject (`fault:F-1001`), event or customer. */
  async list(
    filter: { subjects?: readonly string[]; event?: string; customer?: string | null; limit?: number } = {},
  ): Promise<Notification[]> {
    const clauses: string[] = [];
    const params: SqlValue[] = [];
    if (filter.subjects) {
      clauses.push(filter.subjects.length ? `subject IN (${placeholders(filter.subjects)})` : '1 = 0');
      params.push(...filter.subjects);
    }
    if (filter.event) {
      clauses.push('event = ?');
      params.push(filter.event);
    }
    if (filter.customer) {
      clauses.push('customer = ?');
      params.push(filter.customer);
    }
    params.push(Math.min(filter.limit ?? 100, 1000));
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    return (
      await this.sql.all<NotificationRow>(`SELECT * FROM notifications ${where} ORDER BY created_at DESC, id DESC LIMIT ?`, params)
    ).map(toNotification);
  }

  async deliveriesOf(notifications: readonly string[]): Promise<Delivery[]> {
    if (notifications.length === 0) return [];
    return (
      await this.sql.all<DeliveryRow>(
        `SELECT * FROM notification_deliveries WHERE notification IN (${placeholders(notifications)}) ORDER BY channel, target`,
        [...notifications],
      )
    ).map(toDelivery);
  }

  async attemptsOf(deliveries: readonly string[]): Promise<DeliveryAttempt[]> {
    if (deliveries.length === 0) return [];
    return (
      await this.sql.all<AttemptRow>(`SELECT * FROM notification_attempts WHERE delivery IN (${placeholders(deliveries)}) ORDER BY id`, [
        ...deliveries,
      ])
    ).map(toAttempt);
  }

  /** Pending deliveries whose next attempt is due at `now`, oldest first. */
  async dueDeliveries(now: Date, limit: number): Promise<Delivery[]> {
    return (
      await this.sql.all<DeliveryRow>(
        "SELECT * FROM notification_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
        [now.toISOString(), limit],
      )
    ).map(toDelivery);
  }

  /**
   * Takes the delivery's next attempt: counts it and hides the delivery until `retryAt` (when
   * a worker that dies mid-attempt is retried). False when another worker took it first.
   */
  async claim(delivery: Delivery, now: Date, retryAt: Date): Promise<boolean> {
    const { changes } = await this.sql.run(
      "UPDATE notification_deliveries SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ? AND status = 'pending' AND attempts = ? AND next_attempt_at <= ?",
      [retryAt.toISOString(), delivery.id, delivery.attempts, now.toISOString()],
    );
    return changes === 1;
  }

  /** Records an attempt and its outcome: delivered, retried at `retryAt`, or given up (failed). */
  async settle(
    delivery: string,
    attempt: Omit<DeliveryAttempt, 'delivery'>,
    outcome: { status: DeliveryStatus; retryAt?: Date },
  ): Promise<void> {
    await this.sql.run('INSERT INTO notification_attempts (delivery, at, ok, status_code, error, worker) VALUES (?, ?, ?, ?, ?, ?)', [
      delivery,
      attempt.at.toISOString(),
      attempt.ok ? 1 : 0,
      attempt.statusCode,
      attempt.error,
      attempt.worker,
    ]);
    if (outcome.status === 'delivered')
      await this.sql.run("UPDATE notification_deliveries SET status = 'delivered', delivered_at = ? WHERE id = ?", [
        attempt.at.toISOString(),
        delivery,
      ]);
    else if (outcome.status === 'failed')
      await this.sql.run("UPDATE notification_deliveries SET status = 'failed' WHERE id = ?", [delivery]);
    else
      await this.sql.run("UPDATE notification_deliveries SET next_attempt_at = ? WHERE id = ? AND status = 'pending'", [
        outcome.retryAt!.toISOString(),
        delivery,
      ]);
  }

  /** Takes or renews the lease `name` until `until`; false while another holder's lease runs. */
  async takeLease(name: string, holder: string, now: Date, until: Date): Promise<boolean> {
    const { changes } = await this.sql.run(
      'UPDATE worker_leases SET holder = ?, expires_at = ? WHERE name = ? AND (holder = ? OR expires_at <= ?)',
      [holder, until.toISOString(), name, holder, now.toISOString()],
    );
    if (changes === 1) return true;
    const inserted = await this.sql.run(
      'INSERT INTO worker_leases (name, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
      [name, holder, until.toISOString()],
    );
    return inserted.changes === 1;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.sql.run('DELETE FROM worker_leases WHERE name = ? AND holder = ?', [name, holder]);
  }

  /**
   * While a support session waits on the customer's consent, the vendor waits on the customer:
   * the waits of these devices' sessions (read from support_sessions, which the fault clocks pause on).
   */
  async customerWaits(devices: readonly string[]): Promise<CustomerWait[]> {
    if (devices.length === 0) return [];
    const rows = await this.sql.all<{
      device: string;
      requested_at: string;
      decided_at: string | null;
      withdrawn_at: string | null;
      status: string;
    }>(`SELECT device, requested_at, decided_at, withdrawn_at, status FROM support_sessions WHERE device IN (${placeholders(devices)})`, [
      ...devices,
    ]);
    return rows.map((row) => ({
      device: row.device,
      start: toDate(row.requested_at),
      end: row.status === 'requested' ? null : (toDateOrNull(row.decided_at ?? row.withdrawn_at) ?? toDate(row.requested_at)),
    }));
  }

  /** Sessions whose consent has run out by `now` (recorded expired or not): support.consent_expired candidates. */
  async lapsedConsents(now: Date, since: Date): Promise<{ id: string; customer: string; device: string; expiresAt: Date }[]> {
    const rows = await this.sql.all<{ id: string; customer: string; device: string; expires_at: string }>(
      "SELECT id, customer, device, expires_at FROM support_sessions WHERE status IN ('consented', 'expired') AND expires_at <= ? AND expires_at > ? ORDER BY expires_at",
      [now.toISOString(), since.toISOString()],
    );
    return rows.map((row) => ({ id: row.id, customer: row.customer, device: row.device, expiresAt: toDate(row.expires_at) }));
  }
}
