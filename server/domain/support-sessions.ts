// Remote support only with the customer's consent (DESIGN.md): a session stays inert until a
// user of the device's customer consents, with an expiry; only then may the device upload.
import { SluiceError } from '../errors.js';
import { takeTransition } from './transition-table.js';

export const sessionStatuses = ['requested', 'consented', 'refused', 'withdrawn', 'uploaded'] as const;
export type SessionStatus = (typeof sessionStatuses)[number];
export type SessionEvent = 'consent' | 'refuse' | 'withdraw' | 'upload';

export const sessionTransitions: readonly { from: SessionStatus; event: SessionEvent; to: SessionStatus }[] = [
  { from: 'requested', event: 'consent', to: 'consented' },
  { from: 'requested', event: 'refuse', to: 'refused' },
  { from: 'consented', event: 'withdraw', to: 'withdrawn' },
  { from: 'consented', event: 'upload', to: 'uploaded' },
];

export const defaultConsentHours = 24;

export interface SessionClock { status: SessionStatus; expiresAt: Date | null }

export function isConsentLive(session: SessionClock, now: Date): boolean {
  return session.status === 'consented' && session.expiresAt !== null && now < session.expiresAt;
}

/** The status as people should see it: a consent past its expiry is expired. */
export function effectiveStatus(session: SessionClock, now: Date): SessionStatus | 'expired' {
  return session.status === 'consented' && !isConsentLive(session, now) ? 'expired' : session.status;
}

export function transitionSession(session: SessionClock, event: SessionEvent, now: Date): SessionStatus {
  const status = effectiveStatus(session, now);
  const allowed = sessionTransitions.some((transition) => transition.from === status && transition.event === event);
  if (!allowed) {
    if (event === 'upload') {
      const why = { requested: 'the customer has not consented', refused: 'the customer refused', withdrawn: 'the customer withdrew consent', expired: 'the consent expired', uploaded: 'the bundle was already uploaded' }[status as string] ?? status;
      throw new SluiceError('consent_required', `no live consent for this session: ${why}`, { status });
    }
  }
  return takeTransition(sessionTransitions, 'support session', status as SessionStatus, event).to;
}
