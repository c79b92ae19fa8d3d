// Tokens are 32 random bytes; only their SHA-256 is stored, so a database leak does not
// leak credentials. The plain token is returned once, at creation.
import { createHash, randomBytes } from 'node:crypto';

export function generateToken(prefix: 'u' | 'd' | 'g'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
