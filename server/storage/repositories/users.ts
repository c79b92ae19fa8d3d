// Users, the bearer tokens of users and devices, portal sessions and sign-in limits.
// Tokens and session cookies are random; only their SHA-256 is stored (auth/tokens.ts).
import { randomUUID } from 'node:crypto';
import { isUniqueViolation, whereClause, type SqlSession } from '../sql.js';
import { replaceTokens, revokeTokens, userTokens } from './token-rows.js';
import { SluiceError } from '../../errors.js';
import { generateToken, hashToken } from '../../auth/tokens.js';
import type { Principal, Role } from '../../auth/principal.js';
import { toDate, type User } from './records.js';

interface UserRow {
  id: string;
  username: string;
  role: Role;
  customer: string | null;
  password_hash: string | null;
  created_at: string;
}
const toUser = (row: UserRow): User => ({
  id: row.id,
  username: row.username,
  role: row.role,
  customer: row.customer,
  passwordHash: row.password_hash,
  createdAt: toDate(row.created_at),
});

/** Who holds a token: its columns and joins, read here and in front of the check-in read (checkin-read.ts). */
export interface TokenHolderRow {
  user_id: string | null;
  device_id: string | null;
  username: string | null;
  role: Role | null;
  user_customer: string | null;
  device_customer: string | null;
  product: string | null;
  hardware: string | null;
  version: string | null;
  state: string | null;
}

export const tokenHolderColumns = `t.user_id, t.device_id, u.username, u.role, u.customer AS user_customer,
       d.customer AS device_customer, d.product, d.hardware, d.version, d.state`;
export const tokenHolderJoins = 'tokens t LEFT JOIN users u ON u.id = t.user_id LEFT JOIN devices d ON d.id = t.device_id';

const principalByTokenSql = `SELECT ${tokenHolderColumns} FROM ${tokenHolderJoins} WHERE t.hash = ? AND t.revoked_at IS NULL`;

export function principalOf(row: TokenHolderRow): Principal {
  if (row.user_id) return { kind: 'user', id: row.user_id, username: row.username!, role: row.role!, customer: row.user_customer };
  return {
    kind: 'device',
    id: row.device_id!,
    customer: row.device_customer!,
    product: row.product!,
    hardware: row.hardware!,
    version: row.version!,
    state: row.state,
  };
}

export interface NewUser {
  username: string;
  role: Role;
  customer?: string | null;
  passwordHash?: string | null;
}

/** A signed-in portal user, with the customer's name for the page header. */
export interface PortalSessionRecord {
  csrf: string;
  expiresAt: Date;
  user: { id: string; username: string; role: Role; customer: string | null; customerName: string | null };
}

export class UserRepository {
  constructor(private readonly sql: SqlSession) {}

  /** The user and its API token (the plain token is returned once, only its hash is kept). */
  async create(input: NewUser, now: Date): Promise<{ id: string; token: string }> {
    const id = randomUUID();
    const token = generateToken('u');
    try {
      await this.sql.transaction(async (tx) => {
        await tx.run('INSERT INTO users (id, username, role, customer, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
          id,
          input.username,
          input.role,
          input.customer ?? null,
          input.passwordHash ?? null,
          now.toISOString(),
        ]);
        await tx.run('INSERT INTO tokens (hash, user_id, created_at) VALUES (?, ?, ?)', [hashToken(token), id, now.toISOString()]);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new SluiceError('already_exists', `user "${input.username}" already exists`);
      throw error;
    }
    return { id, token };
  }

  async getByName(username: string): Promise<User | undefined> {
    const row = await this.sql.get<UserRow>('SELECT * FROM users WHERE username = ?', [username]);
    return row && toUser(row);
  }

  async hasAdmin(): Promise<boolean> {
    return (await this.sql.get("SELECT 1 AS found FROM users WHERE role = 'admin' LIMIT 1")) !== undefined;
  }

  /**
   * Who holds this (unrevoked) token, user or device, in one query: it runs on every API
   * request but the check-in, which reads it in front of its own read (checkin-read.ts).
   */
  async principalByToken(token: string): Promise<Principal | null> {
    const row = await this.sql.get<TokenHolderRow>(principalByTokenSql, [hashToken(token)]);
    return row ? principalOf(row) : null;
  }

  /** Stores a portal session under the cookie's hash; expired sessions are swept on the way. */
  async createSession(session: { cookieHash: string; userId: string; csrf: string; expiresAt: Date }, now: Date): Promise<void> {
    await this.sql.run('DELETE FROM portal_sessions WHERE expires_at < ?', [now.toISOString()]);
    await this.sql.run('INSERT INTO portal_sessions (hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)', [
      session.cookieHash,
      session.userId,
      session.csrf,
      now.toISOString(),
      session.expiresAt.toISOString(),
    ]);
  }

  async sessionByHash(cookieHash: string): Promise<PortalSessionRecord | undefined> {
    const row = await this.sql.get<{
      csrf: string;
      expires_at: string;
      id: string;
      username: string;
      role: Role;
      customer: string | null;
      customer_name: string | null;
    }>(
      `SELECT s.csrf, s.expires_at, u.id, u.username, u.role, u.customer, c.name AS customer_name
       FROM portal_sessions s JOIN users u ON u.id = s.user_id LEFT JOIN customers c ON c.id = u.customer
       WHERE s.hash = ?`,
      [cookieHash],
    );
    return (
      row && {
        csrf: row.csrf,
        expiresAt: toDate(row.expires_at),
        user: { id: row.id, username: row.username, role: row.role, customer: row.customer, customerName: row.customer_name },
      }
    );
  }

  async deleteSession(cookieHash: string): Promise<void> {
    await this.sql.run('DELETE FROM portal_sessions WHERE hash = ?', [cookieHash]);
  }

  /**
   * Reserves one sign-in attempt under each key, all or none: a key whose counter already
   * holds `limit` attempts in the window that began after `windowStart` refuses, and the
   * reservations made before it are rolled back. The reservation is a conditional upsert, so
   * parallel attempts, in one process or several, cannot pass the limit together: on
   * PostgreSQL the upsert locks the key's row and re-checks the condition on its newest
   * version; SQLite runs one writer at a time. Keys are always taken in the caller's order
   * (accounts before addresses), so two attempts cannot wait on each other.
   * Returns null when reserved, or the refusing key and the start of its window.
   */
  async reserveSignInAttempts(
    keys: readonly { key: string; limit: number }[],
    windowStart: Date,
    now: Date,
  ): Promise<{ key: string; windowStart: Date } | null> {
    const refused = Symbol('refused');
    try {
      await this.sql.transaction(async (tx) => {
        for (const { key, limit } of keys) {
          const { changes } = await tx.run(
            `INSERT INTO sign_in_limits (key, window_start, attempts) VALUES (?, ?, 1)
             ON CONFLICT (key) DO UPDATE SET
               attempts = CASE WHEN sign_in_limits.window_start <= ? THEN 1 ELSE sign_in_limits.attempts + 1 END,
               window_start = CASE WHEN sign_in_limits.window_start <= ? THEN excluded.window_start ELSE sign_in_limits.window_start END
             WHERE sign_in_limits.window_start <= ? OR sign_in_limits.attempts < ?`,
            [key, now.toISOString(), windowStart.toISOString(), windowStart.toISOString(), windowStart.toISOString(), limit],
          );
          if (changes === 0) {
            const row = await tx.get<{ window_start: string }>('SELECT window_start FROM sign_in_limits WHERE key = ?', [key]);
            throw Object.assign(new Error('refused'), { [refused]: { key, windowStart: toDate(row!.window_start) } });
          }
        }
      });
      return null;
    } catch (error) {
      const refusal = (error as Record<symbol, { key: string; windowStart: Date } | undefined>)[refused];
      if (refusal) return refusal;
      throw error;
    }
  }

  /** Gives back one reserved attempt under each key (the password was right). */
  async releaseSignInAttempts(keys: readonly string[]): Promise<void> {
    for (const key of keys) await this.sql.run('UPDATE sign_in_limits SET attempts = attempts - 1 WHERE key = ? AND attempts > 0', [key]);
  }

  /** Forgets counters whose window began at or before `windowStart`: they count nothing any more. */
  async sweepSignInLimits(windowStart: Date): Promise<void> {
    await this.sql.run('DELETE FROM sign_in_limits WHERE window_start <= ?', [windowStart.toISOString()]);
  }

  // used by the token and password routes

  async get(id: string): Promise<User | undefined> {
    const row = await this.sql.get<UserRow>('SELECT * FROM users WHERE id = ?', [id]);
    return row && toUser(row);
  }

  async list(filter: { username?: string; id?: string } = {}): Promise<User[]> {
    const { where, values } = whereClause({ username: filter.username, id: filter.id });
    return (await this.sql.all<UserRow>(`SELECT * FROM users ${where} ORDER BY username`, values)).map(toUser);
  }

  /** Revokes the user's tokens and issues a new one (shown once); null when there is no such user. */
  rotateToken(userId: string, at: Date): Promise<{ token: string; revoked: number } | null> {
    return replaceTokens(this.sql, userTokens, userId, at);
  }

  /** Revokes every live token of the user; how many there were. */
  revokeTokens(userId: string, at: Date): Promise<number> {
    return revokeTokens(this.sql, userTokens, userId, at);
  }

  async setPasswordHash(userId: string, passwordHash: string): Promise<boolean> {
    const { changes } = await this.sql.run('UPDATE users SET password_hash = ? WHERE id = ?', [passwordHash, userId]);
    return changes === 1;
  }

  /** Replaces the hash only if it is still `from`: a rehash never overwrites a password changed meanwhile. */
  async replacePasswordHash(userId: string, from: string, to: string): Promise<boolean> {
    const { changes } = await this.sql.run('UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?', [to, userId, from]);
    return changes === 1;
  }

  /** Ends every portal session of the user; how many there were. */
  async deleteSessionsOf(userId: string): Promise<number> {
    const { changes } = await this.sql.run('DELETE FROM portal_sessions WHERE user_id = ?', [userId]);
    return changes;
  }

  // used by plans and check-in (the fleet tests: tokens are kept only as hashes)
  /** The hash of every stored token, of users and devices. */
  async tokenHashes(): Promise<string[]> {
    return (await this.sql.all<{ hash: string }>('SELECT hash FROM tokens ORDER BY hash')).map((row) => row.hash);
  }
}
