// Remote support sessions over the domain's consent rules: requested by support, decided by
// the device's customer, uploaded once by the device while consent is live. A consent's
// expiry is its stored `expiresAt`; the first reader that finds it passed records it (status
// expired, audited) by a conditional update, so several processes record it once.
import type { SupportSessionType } from '../../protocol/index.js';
import { randomUUID } from 'node:crypto';
import type { SluiceContext } from '../context.js';
import type { Store } from '../storage/store.js';
import type { SupportSession } from '../storage/repositories/records.js';
import { SluiceError } from '../errors.js';
import { notify } from '../notifications/outbox.js';
import { consentLapsed, defaultConsentHours, effectiveStatus, isConsentLive, transitionSession } from '../domain/support-sessions.js';

/** The collectors support may ask for. The device runs only those configured on it; these names merely select among them. */
export { Collectors as collectorsSchema } from '../../protocol/support-sessions.js';

const iso = (value: Date | null) => value?.toISOString() ?? null;

export function sessionView(session: SupportSession, now: Date): SupportSessionType {
  return {
    id: session.id,
    device: session.device,
    customer: session.customer,
    reason: session.reason,
    collect: session.collect,
    status: effectiveStatus(session, now),
    requestedBy: session.requestedBy,
    requestedAt: session.requestedAt.toISOString(),
    decidedBy: session.decidedBy,
    decidedAt: iso(session.decidedAt),
    expiresAt: iso(session.expiresAt),
    withdrawnAt: iso(session.withdrawnAt),
    uploadedAt: iso(session.uploadedAt),
    bundle: session.bundle,
  };
}

export type SessionView = ReturnType<typeof sessionView>;

export async function requestSession(
  context: SluiceContext,
  input: { device: string; reason: string; collect: string[] },
  actor: string,
): Promise<SupportSession> {
  const device = await context.store.devices.get(input.device);
  if (!device) throw new SluiceError('unknown_device', `no device "${input.device}"`);
  const now = context.options.now();
  const id = randomUUID();
  return context.store.transaction(async (tx) => {
    await tx.supportSessions.insert({
      id,
      device: device.id,
      customer: device.customer,
      reason: input.reason,
      collect: [...new Set(input.collect)],
      requestedBy: actor,
      requestedAt: now,
    });
    await tx.audit.record({
      at: now,
      actor,
      action: 'support.request',
      subject: `support-session:${id}`,
      details: { device: device.id, reason: input.reason, collect: input.collect },
    });
    await notify(tx, {
      event: 'support.consent_requested',
      subject: `support-session:${id}`,
      customer: device.customer,
      at: now,
      data: { session: id, device: device.id, reason: input.reason, collect: input.collect, requestedBy: actor },
    });
    return (await tx.supportSessions.get(id))!;
  });
}

/**
 * A session as it stands at `now`: a consent found past its expiry is recorded expired
 * (and audited) by the one reader whose conditional update changed it.
 */
export async function settleSession(
  context: SluiceContext,
  session: SupportSession,
  now: Date,
  store: Store = context.store,
): Promise<SupportSession> {
  if (!consentLapsed(session, now)) return session;
  await store.transaction(async (tx) => {
    if (!(await tx.supportSessions.markExpired(session.id, now))) return;
    await tx.audit.record({
      at: now,
      actor: 'system',
      action: 'support.consent_expired',
      subject: `support-session:${session.id}`,
      details: { expiresAt: iso(session.expiresAt) },
    });
    await notify(tx, consentExpiredNotification(session, now));
  });
  return { ...session, status: 'expired' };
}

/** The sessions a customer (or, without one, staff) may see, newest first, settled at `now`. */
export async function listSessions(context: SluiceContext, customer: string | null, now: Date, limit = 1000): Promise<SupportSession[]> {
  const sessions = await context.store.supportSessions.list({ customer, limit });
  const settled: SupportSession[] = [];
  for (const session of sessions) settled.push(await settleSession(context, session, now));
  return settled;
}

/** What diagnostics the device is asked for at its check-in: only while a consent is live. */
export async function diagnosticsRequestFor(
  context: SluiceContext,
  device: string,
  now: Date,
): Promise<{ session: string; collect: string[] } | null> {
  let live: SupportSession | null = null;
  for (const session of await context.store.supportSessions.consentedOfDevice(device)) {
    if (isConsentLive(session, now)) live ??= session;
    else await settleSession(context, session, now);
  }
  return live ? { session: live.id, collect: live.collect } : null;
}

/** A customer's answer to a support request: consent (with an expiry), refuse, or withdraw. */
export async function decideSession(
  context: SluiceContext,
  id: string,
  customer: string,
  event: 'consent' | 'refuse' | 'withdraw',
  actor: string,
  hours = defaultConsentHours,
): Promise<SupportSession> {
  const now = context.options.now();
  return context.store.transaction(async (tx) => {
    const session = await tx.supportSessions.get(id);
    // Another customer's session is "not found", exactly like one that does not exist.
    if (!session || session.customer !== customer) throw new SluiceError('not_found', `no support session "${id}"`);
    const next = transitionSession(session, event, now);
    const decision =
      event === 'withdraw'
        ? { status: 'withdrawn' as const, withdrawnAt: now }
        : {
            status: next as 'consented' | 'refused',
            decidedBy: actor,
            decidedAt: now,
            expiresAt: event === 'consent' ? new Date(now.getTime() + hours * 3600_000) : null,
          };
    if (!(await tx.supportSessions.decide(id, session.status, decision))) {
      throw new SluiceError('illegal_transition', `cannot ${event} support session ${id}: it changed meanwhile`, {
        status: session.status,
      });
    }
    const details =
      decision.status === 'withdrawn'
        ? { status: next, withdrawn_at: now.toISOString() }
        : { status: next, decided_by: actor, decided_at: now.toISOString(), expires_at: iso(decision.expiresAt) };
    await tx.audit.record({ at: now, actor, action: `support.${event}`, subject: `support-session:${id}`, details });
    return (await tx.supportSessions.get(id))!;
  });
}

/**
 * Records the device's one bundle if the consent is still live at `now`, and only then puts
 * the bytes in place (`place`), in the same transaction: of two uploads racing for one
 * session, the loser neither records nor overwrites anything.
 */
export async function recordUpload(
  context: SluiceContext,
  session: SupportSession,
  bundle: { sha256: string; size: number },
  actor: string,
  now: Date,
  place: () => Promise<void>,
): Promise<void> {
  await context.store.transaction(async (tx) => {
    if (!(await tx.supportSessions.markUploaded(session.id, bundle, now))) {
      const current = (await tx.supportSessions.get(session.id)) ?? session;
      transitionSession(current, 'upload', now);
      throw new SluiceError('consent_required', 'no live consent for this session');
    }
    await place();
    await tx.audit.record({
      at: now,
      actor,
      action: 'support.upload',
      subject: `support-session:${session.id}`,
      details: { size: bundle.size, sha256: bundle.sha256 },
    });
  });
}

/** support.consent_expired, keyed by the session: the reader that records the expiry and the worker's scan send it once between them. */
export function consentExpiredNotification(session: Pick<SupportSession, 'id' | 'customer' | 'device' | 'expiresAt'>, now: Date) {
  return {
    event: 'support.consent_expired' as const,
    subject: `support-session:${session.id}`,
    key: `support.consent_expired:${session.id}`,
    customer: session.customer,
    at: now,
    data: { session: session.id, device: session.device, expiresAt: iso(session.expiresAt) },
  };
}
