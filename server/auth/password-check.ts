// One password check for every place that takes a password (portal sign-in, the current
// password of a password change): the attempt is reserved first (sign-in-limits.ts), the
// password is always hashed once, for unknown user names too, and a hash made with older
// parameters is replaced once the password is known to be right.
import type { Store } from '../storage/store.js';
import type { User } from '../storage/repositories/records.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';
import { reserveSignIn, type SignInReservation } from './sign-in-limits.js';

export type PasswordCheck =
  | { outcome: 'accepted'; user: User }
  | { outcome: 'rejected' }
  | { outcome: 'limited'; refusal: Extract<SignInReservation, { granted: false }> };

export async function checkPassword(store: Store, username: string, password: string, address: string, now: Date): Promise<PasswordCheck> {
  const reservation = await reserveSignIn(store, username, address, now);
  if (!reservation.granted) return { outcome: 'limited', refusal: reservation };
  const user = await store.users.getByName(username);
  const stored = user?.passwordHash ?? null;
  const matches = await verifyPassword(password, stored);
  if (!matches || !user || !stored) return { outcome: 'rejected' };
  await reservation.release();
  // Conditional on the old hash: a password changed meanwhile is never overwritten.
  if (needsRehash(stored)) await store.users.replacePasswordHash(user.id, stored, await hashPassword(password));
  return { outcome: 'accepted', user };
}
