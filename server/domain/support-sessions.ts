// Remote support only with the customer's consent (DESIGN.md): a session stays inert until a
// user of the device's customer consents, with an expiry; only then may the device upload.
import { SluiceError } from '../errors.js';
import { takeTransition } from './transition-table.js';

export const sessionStatuses = ['requested', 'consented', 'refused', 'withdrawn', 'uploaded', 'expired'] as const;
export type SessionStatus = (typeof sessionStatuses)[number];
export const sessionEvents = ['consent', 'refuse', 'withdraw', 'upload', 'expire'] as const;
export type SessionEvent = (typeof sessionEvents)[number];

export const sessionTransitions: readonly { from: SessionStatus; event: SessionEvent; to: SessionStatus }[] = [
  { from: 'requested', event: 'consent', to: 'consented' },
  { from: 'requested', event: 'refuse', to: 'refused' },
  { from: 'consented', event: 'withdraw', to: 'withdrawn' },
  { from: 'consented', event: 'upload', to: 'uploaded' },
  // Recorded by the first reader that finds the consent past its expiry (the clock itself
  // is the stored `expiresAt`; see isConsentLive).
  { from: 'consented', event: 'expire', to: 'expired' },
];

export const defaultConsentHours = 24;

export interface SessionClock {
  status: SessionStatus;
  expiresAt: Date | null;
}

export function isConsentLive(session: SessionClock, now: Date): boolean {
  return session.status === 'consented' && session.expiresAt !== null && now < session.expiresAt;
}

/** The status as people should see it: a consent past its expiry is expired, recorded or not. */
export function effectiveStatus(session: SessionClock, now: Date): SessionStatus {
  return session.status === 'consented' && !isConsentLive(session, now) ? 'expired' : session.status;
}

/** A consent whose expiry has passed but whose expiry is not recorded yet. */
export function consentLapsed(session: SessionClock, now: Date): boolean {
  return session.status === 'consented' && !isConsentLive(session, now);
}

const step = (from: SessionStatus, event: SessionEvent) => takeTransition(sessionTransitions, 'support session', from, event).to;

export function transitionSession(session: SessionClock, event: SessionEvent, now: Date): SessionStatus {
  // Expiry is the clock's: taken from the stored status, and only once the expiry has passed.
  if (event === 'expire') {
    if (session.status === 'consented' && !consentLapsed(session, now))
      throw new SluiceError('illegal_transition', 'cannot expire a consent that is still live', { status: session.status });
    return step(session.status, event);
  }
  const status = effectiveStatus(session, now);
  const allowed = sessionTransitions.some((transition) => transition.from === status && transition.event === event);
  if (!allowed && event === 'upload') {
    const why: Record<SessionStatus, string> = {
      requested: 'the customer has not consented',
      consented: 'the customer has not consented',
      refused: 'the customer refused',
      withdrawn: 'the customer withdrew consent',
      expired: 'the consent expired',
      uploaded: 'the bundle was already uploaded',
    };
    throw new SluiceError('consent_required', `no live consent for this session: ${why[status]}`, { status });
  }
  return step(status, event);
}
