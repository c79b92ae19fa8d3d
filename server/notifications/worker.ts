// The delivery worker. Every tick, the one process that holds the lease (a row in the
// database, taken or renewed by a conditional update) scans for timed events, fans new events
// out to their recipients and delivers what is due. Each delivery attempt is claimed by a
// conditional update first, which also hides it until a retry time: a process killed during
// an attempt leaves it to be retried (with the same delivery id) once that time has passed.
// Every attempt is recorded; a failed one is retried with exponential backoff, up to a limit.
import { randomUUID } from 'node:crypto';
import type { SluiceContext } from '../context.js';
import type { Delivery } from '../storage/repositories/notifications.js';
import { planCalendar } from '../services/plan-calendar.js';
import { eventBody, fanOut } from './outbox.js';
import { postWebhook, type AttemptOutcome } from './webhook.js';
import { composeMail, createMailer, type Mailer } from './mail.js';
import { scanTimedEvents } from './scanner.js';

export const leaseName = 'notifications';
const batch = 50;

/** Seconds before attempt `attempt + 1` after `attempt` failed: 30 s, 1 min, 2 min, … at most 1 h. */
export function retryDelaySeconds(attempt: number): number {
  return Math.min(30 * 2 ** Math.max(0, attempt - 1), 3600);
}

export interface TickReport {
  leader: boolean;
  timed: number;
  fannedOut: number;
  attempted: number;
  delivered: number;
}

export class NotificationWorker {
  readonly holder = randomUUID();
  private mailer: Mailer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly context: SluiceContext) {
    if (context.options.smtpUrl)
      this.mailer = createMailer(context.options.smtpUrl, context.options.mailFrom, context.options.notificationWorker.webhookTimeoutMs);
  }

  /** Runs ticks every intervalMs, one at a time, until stop(). */
  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((error: unknown) => {
          process.stderr.write(`sluice: notification worker: ${(error as Error).message}\n`);
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.context.options.notificationWorker.intervalMs);
        });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    this.mailer?.close();
    await this.context.store.notifications.releaseLease(leaseName, this.holder).catch(() => undefined);
  }

  /** One round; tests call it with their own clock. */
  async tick(): Promise<TickReport> {
    const { store, options } = this.context;
    const now = options.now();
    const report: TickReport = { leader: false, timed: 0, fannedOut: 0, attempted: 0, delivered: 0 };
    const leaseUntil = new Date(now.getTime() + options.notificationWorker.leaseSeconds * 1000);
    if (!(await store.notifications.takeLease(leaseName, this.holder, now, leaseUntil))) return report;
    report.leader = true;
    report.timed = await scanTimedEvents(this.context, now);
    for (const notification of await store.notifications.unfanned(batch))
      report.fannedOut += Number(await fanOut(this.context, notification, now));
    for (const delivery of await store.notifications.dueDeliveries(now, batch)) {
      // An attempt that never reports back (the process died) is retried after this.
      const { claimSeconds, webhookTimeoutMs } = options.notificationWorker;
      const hiddenUntil = new Date(now.getTime() + (claimSeconds === undefined ? webhookTimeoutMs + 5000 : claimSeconds * 1000));
      if (!(await store.notifications.claim(delivery, now, hiddenUntil))) continue;
      report.attempted += 1;
      const outcome = await this.attempt(delivery).catch((error: unknown): AttemptOutcome => ({
        ok: false,
        statusCode: null,
        error: (error as Error).message,
      }));
      const at = options.now();
      const attempts = delivery.attempts + 1;
      const status = outcome.ok
        ? 'delivered'
        : outcome.permanent || attempts >= options.notificationWorker.maxAttempts
          ? 'failed'
          : 'pending';
      await store.notifications.settle(
        delivery.id,
        { at, ok: outcome.ok, statusCode: outcome.statusCode, error: outcome.error, worker: this.holder },
        {
          status,
          retryAt: new Date(at.getTime() + retryDelaySeconds(attempts) * 1000),
        },
      );
      report.delivered += Number(outcome.ok);
    }
    return report;
  }

  private async attempt(delivery: Delivery): Promise<AttemptOutcome> {
    const { store, options } = this.context;
    const notification = await store.notifications.get(delivery.notification);
    if (!notification) return { ok: false, statusCode: null, error: 'event not found' };
    const body = eventBody(this.context, notification);
    if (delivery.channel === 'webhook') {
      const webhook = (await store.notifications.webhooks()).find((candidate) => candidate.id === delivery.target);
      if (!webhook) return { ok: false, statusCode: null, error: 'webhook deleted', permanent: true };
      return postWebhook({
        url: delivery.address,
        secret: webhook.secret,
        event: notification.event,
        delivery: delivery.id,
        body: JSON.stringify(body),
        timeoutMs: options.notificationWorker.webhookTimeoutMs,
      });
    }
    if (!this.mailer) return { ok: false, statusCode: null, error: 'no SMTP relay configured (--smtp)' };
    const message = composeMail(notification, body, delivery.timezone, delivery.locale ?? undefined);
    let calendar: string | undefined;
    if (notification.event === 'window.reminder') {
      const plan = await store.plans.get(notification.subject.slice('plan:'.length));
      const origin = options.publicUrl ?? `http://${options.host}:${options.port}`;
      if (plan) calendar = await planCalendar(store, plan, origin);
    }
    return this.mailer.send({ to: delivery.address, ...message, calendar, delivery: delivery.id });
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    notifications: NotificationWorker;
  }
}
