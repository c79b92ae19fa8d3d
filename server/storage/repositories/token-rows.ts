// The bearer tokens of one user or device (the `tokens` table): revoking them all, or
// replacing them with a fresh one. Shared by the user and device repositories.
import type { SqlSession } from '../sql.js';
import { generateToken, hashToken } from '../../auth/tokens.js';

export interface TokenOwner {
  table: 'users' | 'devices';
  column: 'user_id' | 'device_id';
  prefix: 'u' | 'd';
}
export const userTokens: TokenOwner = { table: 'users', column: 'user_id', prefix: 'u' };
export const deviceTokens: TokenOwner = { table: 'devices', column: 'device_id', prefix: 'd' };

/** Revokes every live token of `id`; how many there were. */
export async function revokeTokens(sql: SqlSession, owner: TokenOwner, id: string, at: Date): Promise<number> {
  const { changes } = await sql.run(`UPDATE tokens SET revoked_at = ? WHERE ${owner.column} = ? AND revoked_at IS NULL`, [
    at.toISOString(),
    id,
  ]);
  return changes;
}

/**
 * Revokes every live token of `id` and issues one new token (returned once, stored as its
 * hash); null when there is no such owner. The owner's row is locked first, so that two
 * rotations at once take turns and leave exactly one live token, the later one's.
 */
export async function replaceTokens(
  sql: SqlSession,
  owner: TokenOwner,
  id: string,
  at: Date,
): Promise<{ token: string; revoked: number } | null> {
  return sql.transaction(async (tx) => {
    if (!(await tx.get(`SELECT id FROM ${owner.table} WHERE id = ?${tx.forUpdate}`, [id]))) return null;
    const revoked = await revokeTokens(tx, owner, id, at);
    const token = generateToken(owner.prefix);
    await tx.run(`INSERT INTO tokens (hash, ${owner.column}, created_at) VALUES (?, ?, ?)`, [hashToken(token), id, at.toISOString()]);
    return { token, revoked };
  });
}
