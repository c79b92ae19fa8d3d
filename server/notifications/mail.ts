// Notification e-mail through SMTP (nodemailer): one message per recipient, dates in the
// recipient's zone, the plan's or fault's link, and for a window reminder the plan's
// iCalendar file attached.
import { DateTime } from 'luxon';
import nodemailer from 'nodemailer';
import type { Notification } from '../storage/repositories/notifications.js';
import type { AttemptOutcome } from './webhook.js';

const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** The language of dates of a recipient who named none. */
export const defaultMailLocale = 'en-GB';

/** An instant as the recipient reads it: "Tue 1 Dec 2026, 10:15 CET" (en-GB), "jue 3 dic 2026, 16:00 CET" (es-ES). */
export function localTime(iso: string, zone: string, locale = defaultMailLocale): string {
  return DateTime.fromISO(iso, { zone: 'utc' }).setZone(zone).setLocale(locale).toFormat('ccc d LLL yyyy, HH:mm ZZZZ');
}

const str = (value: unknown) => (value === null || value === undefined ? '' : String(value));

function headline(event: string, data: Record<string, unknown>, zone: string, locale: string): string {
  const when = (key: string) => (typeof data[key] === 'string' ? localTime(data[key] as string, zone, locale) : '?');
  switch (event) {
    case 'fault.reported':
      return `Fault ${str(data.fault)} reported (class ${str(data.class)}, ${str(data.severity)}): ${str(data.title)}`;
    case 'fault.acknowledged':
      return `Fault ${str(data.fault)}: processing has started`;
    case 'fault.clock_warning':
      return `Fault ${str(data.fault)} (class ${str(data.class)}): ${str(data.clock)} due ${when('dueAt')}`;
    case 'fault.breached':
      return `Fault ${str(data.fault)} (class ${str(data.class)}): the ${str(data.clock)} clock ran out at ${when('dueAt')}`;
    case 'fault.resolved':
      return `Fault ${str(data.fault)} resolved`;
    case 'plan.proposed':
      return `Upgrade plan proposed: your answer is awaited (deadline ${when('deadline')})`;
    case 'plan.countered':
      return 'The customer proposed other windows for the plan';
    case 'plan.confirmed':
      return 'Upgrade plan confirmed';
    case 'plan.paused':
      return `Upgrade plan paused${data.reason ? `: ${str(data.reason)}` : ''}`;
    case 'plan.overdue':
      return `Upgrade plan overdue (${str(data.reason).replaceAll('_', ' ')}; deadline ${when('deadline')})`;
    case 'window.reminder':
      return `Maintenance window starts ${when('start')} (in ${str(data.hoursBefore)} h)`;
    case 'support.consent_requested':
      return `Remote support requested for device ${str(data.device)}: your consent is awaited`;
    case 'support.consent_expired':
      return `Remote support consent for device ${str(data.device)} expired`;
    case 'release.yanked':
      return `Release ${str(data.product)} ${str(data.version)} was yanked`;
    default:
      return event;
  }
}

/** The message for one recipient, in their zone and language of dates. */
export function composeMail(
  notification: Notification,
  body: Record<string, unknown>,
  zone: string,
  locale: string = defaultMailLocale,
): { subject: string; text: string } {
  const data = (notification.payload.data ?? {}) as Record<string, unknown>;
  const title = headline(notification.event, data, zone, locale);
  const lines = [title, '', `Event: ${notification.event} (${localTime(notification.createdAt.toISOString(), zone, locale)})`];
  for (const [key, value] of Object.entries(data)) {
    if (value === null || value === undefined || typeof value === 'object') continue;
    lines.push(`${key}: ${typeof value === 'string' && isoInstant.test(value) ? localTime(value, zone, locale) : str(value)}`);
  }
  if (body.link) lines.push('', `Open: ${str(body.link)}`);
  lines.push('', `Times are in ${zone}.`);
  return { subject: `[sluice] ${title}`, text: lines.join('\n') };
}

export interface Mailer {
  send(message: { to: string; subject: string; text: string; calendar?: string; delivery: string }): Promise<AttemptOutcome>;
  close(): void;
}

/**
 * nodemailer's options for the relay `smtp://user:password@host:port` (or smtps://). Given a
 * URL, nodemailer takes its options from the URL alone and reads a second argument as message
 * defaults, so the timeouts would be lost (minutes against a relay that never greets).
 */
export function relayOptions(smtpUrl: string, timeoutMs: number) {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : secure ? 465 : 25,
    secure,
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    // One connection carries many messages: a round of reminders is not a handshake per recipient.
    pool: true,
  };
}

export function createMailer(smtpUrl: string, from: string, timeoutMs: number): Mailer {
  const transport = nodemailer.createTransport(relayOptions(smtpUrl, timeoutMs));
  return {
    async send(message) {
      try {
        const info = await transport.sendMail({
          from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          // The stable delivery id: a mailbox that got a retry twice can tell.
          headers: { 'X-Sluice-Delivery': message.delivery },
          ...(message.calendar ? { icalEvent: { method: 'PUBLISH', filename: 'window.ics', content: message.calendar } } : {}),
        });
        const rejected = (info.rejected ?? []).length > 0;
        return { ok: !rejected, statusCode: null, error: rejected ? `refused by the relay: ${info.response}` : null };
      } catch (error) {
        return { ok: false, statusCode: null, error: (error as Error).message || String(error) };
      }
    },
    close: () => transport.close(),
  };
}
