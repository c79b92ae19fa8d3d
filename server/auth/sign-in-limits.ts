// How many password attempts may be made (portal sign-in, and the current password of a
// password change), counted per account and per address separately: an account's counter
// slows down guessing its password from many addresses, an address's counter slows down one
// address trying many accounts, and one address's typos on one account leave every other
// account alone. An attempt is reserved before the password is hashed, in the database, so
// that parallel guesses (or guesses spread over several server processes) cannot pass the
// limit together, and given back when the password was right.
import type { Store } from '../storage/store.js';
import { addressKey } from './failure-limiter.js';

export const signInLimits = {
  windowMinutes: 15,
  /** Wrong passwords for one user name, from anywhere, per window. */
  perAccount: 5,
  /** Wrong passwords from one address (IPv6: one /64), for any user names, per window: an office shares one. */
  perAddress: 20,
} as const;

export type SignInReservation =
  { granted: true; release: () => Promise<void> } | { granted: false; scope: 'account' | 'address'; retryAfterSeconds: number };

export async function reserveSignIn(store: Store, username: string, address: string, now: Date): Promise<SignInReservation> {
  const windowStart = new Date(now.getTime() - signInLimits.windowMinutes * 60_000);
  const account = `account:${username}`;
  const keys = [
    { key: account, limit: signInLimits.perAccount },
    { key: `address:${addressKey(address)}`, limit: signInLimits.perAddress },
  ];
  await store.users.sweepSignInLimits(windowStart);
  const refused = await store.users.reserveSignInAttempts(keys, windowStart, now);
  if (!refused) return { granted: true, release: () => store.users.releaseSignInAttempts(keys.map(({ key }) => key)) };
  const endsAt = refused.windowStart.getTime() + signInLimits.windowMinutes * 60_000;
  return {
    granted: false,
    scope: refused.key === account ? 'account' : 'address',
    retryAfterSeconds: Math.max(1, Math.ceil((endsAt - now.getTime()) / 1000)),
  };
}

/** What a refused attempt tells the person: which limit, and how long to wait. */
export function refusalText(refusal: Extract<SignInReservation, { granted: false }>): string {
  const minutes = Math.ceil(refusal.retryAfterSeconds / 60);
  const which = refusal.scope === 'account' ? 'for this user name' : 'from this address';
  return `Too many failed sign-ins ${which}. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}
