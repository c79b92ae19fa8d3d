// Portal sessions: a random cookie whose SHA-256 is stored (like API tokens) and a CSRF token
// per session. Sign-in attempts are limited in auth/sign-in-limits.ts.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../storage/store.js';
import { hashToken } from '../auth/tokens.js';
import type { Principal, Role } from '../auth/principal.js';

export interface PortalUser {
  id: string;
  username: string;
  role: Role;
  customer: string | null;
  customerName: string | null;
}
export interface PortalSession {
  user: PortalUser;
  csrf: string;
}

export const sessionCookie = 'sluice_session';
export const loginCookie = 'sluice_login';
const sessionHours = 12;

export async function createSession(store: Store, userId: string, now: Date): Promise<{ cookie: string; csrf: string }> {
  const cookie = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  await store.users.createSession(
    { cookieHash: hashToken(cookie), userId, csrf, expiresAt: new Date(now.getTime() + sessionHours * 3600_000) },
    now,
  );
  return { cookie, csrf };
}

export async function loadSession(store: Store, cookie: string | undefined, now: Date): Promise<PortalSession | null> {
  if (!cookie) return null;
  const session = await store.users.sessionByHash(hashToken(cookie));
  if (!session || session.expiresAt <= now) return null;
  return { csrf: session.csrf, user: session.user };
}

export async function destroySession(store: Store, cookie: string | undefined): Promise<void> {
  if (cookie) await store.users.deleteSession(hashToken(cookie));
}

export function tokensMatch(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(given));
}

export function principalOf(user: PortalUser): Principal {
  return { kind: 'user', id: user.id, username: user.username, role: user.role, customer: user.customer };
}
