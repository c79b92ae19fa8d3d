// Portal sessions: a random cookie whose SHA-256 is stored (like API tokens), a CSRF token per
// session, and login failures counted per user name and address so that guessing is slow.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../storage/database.js';
import { hashToken } from '../auth/tokens.js';
import type { Principal, Role } from '../auth/principal.js';

export interface PortalUser { id: string; username: string; role: Role; customer: string | null; customerName: string | null }
export interface PortalSession { user: PortalUser; csrf: string }

export const sessionCookie = 'sluice_session';
export const loginCookie = 'sluice_login';
const sessionHours = 12;
export const failureWindowMinutes = 15;
export const maximumFailures = 5;

export function createSession(db: Db, userId: string, now: Date): { cookie: string; csrf: string } {
  const cookie = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  db.prepare('DELETE FROM portal_sessions WHERE expires_at < ?').run(now.toISOString());
  db.prepare('INSERT INTO portal_sessions (hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
    .run(hashToken(cookie), userId, csrf, now.toISOString(), new Date(now.getTime() + sessionHours * 3600_000).toISOString());
  return { cookie, csrf };
}

export function loadSession(db: Db, cookie: string | undefined, now: Date): PortalSession | null {
  if (!cookie) return null;
  const row = db.prepare(`SELECT s.csrf, s.expires_at, u.id, u.username, u.role, u.customer, c.name AS customer_name
                          FROM portal_sessions s JOIN users u ON u.id = s.user_id LEFT JOIN customers c ON c.id = u.customer
                          WHERE s.hash = ?`).get(hashToken(cookie)) as { csrf: string; expires_at: string; id: string; username: string; role: Role; customer: string | null; customer_name: string | null } | undefined;
  if (!row || new Date(row.expires_at) <= now) return null;
  return { csrf: row.csrf, user: { id: row.id, username: row.username, role: row.role, customer: row.customer, customerName: row.customer_name } };
}

export function destroySession(db: Db, cookie: string | undefined): void {
  if (cookie) db.prepare('DELETE FROM portal_sessions WHERE hash = ?').run(hashToken(cookie));
}

export function tokensMatch(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(given));
}

export function recentFailures(db: Db, username: string, address: string, now: Date): number {
  const since = new Date(now.getTime() - failureWindowMinutes * 60_000).toISOString();
  return (db.prepare('SELECT COUNT(*) AS n FROM login_failures WHERE (username = ? OR address = ?) AND at > ?').get(username, address, since) as { n: number }).n;
}

export function recordFailure(db: Db, username: string, address: string, now: Date): void {
  db.prepare('INSERT INTO login_failures (username, address, at) VALUES (?, ?, ?)').run(username, address, now.toISOString());
}

export function principalOf(user: PortalUser): Principal {
  return { kind: 'user', id: user.id, username: user.username, role: user.role, customer: user.customer };
}
