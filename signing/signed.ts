// Signed documents: { signed, signatures: [{ keyid, sig }] }, each signature over the
// canonical JSON of `signed` (DESIGN.md, "Trust model"), verified against a role's threshold.
import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalBytes } from './canonical.js';
import { keyIdOf, publicKeyFromHex } from './keys.js';
import { SignatureError } from './errors.js';

export interface Signature { keyid: string; sig: string }
export interface SignedDocument<T> { signed: T; signatures: Signature[] }
export interface RoleKeys { keyids: string[]; threshold: number }
export interface RootKey { keytype: 'ed25519'; public: string }

export function signDocument<T>(signed: T, privateKeys: KeyObject[]): SignedDocument<T> {
  const bytes = canonicalBytes(signed);
  return { signed, signatures: privateKeys.map((key) => ({ keyid: keyIdOf(key), sig: sign(null, bytes, key).toString('base64') })) };
}

/**
 * Returns the key ids whose signatures verify; throws unless at least `threshold` distinct
 * keys of the role signed. Signatures by keys outside the role, and a second signature by
 * the same key, count for nothing (a duplicated signature must not reach a threshold).
 */
export function verifyThreshold(document: SignedDocument<unknown>, keys: Record<string, RootKey>, role: RoleKeys, roleName: string): string[] {
  if (!document || typeof document !== 'object' || !Array.isArray(document.signatures)) {
    throw new SignatureError(`the ${roleName} document has no signatures`);
  }
  if (!Number.isInteger(role.threshold) || role.threshold < 1) throw new SignatureError(`the ${roleName} role has no valid threshold`);
  const bytes = canonicalBytes(document.signed);
  const verified = new Set<string>();
  for (const signature of document.signatures) {
    if (!signature || typeof signature.keyid !== 'string' || typeof signature.sig !== 'string') continue;
    if (verified.has(signature.keyid) || !role.keyids.includes(signature.keyid)) continue;
    const key = keys[signature.keyid];
    if (!key || key.keytype !== 'ed25519') continue;
    try {
      if (verify(null, bytes, publicKeyFromHex(key.public), Buffer.from(signature.sig, 'base64'))) verified.add(signature.keyid);
    } catch {
      // A malformed key or signature is simply not a valid signature.
    }
  }
  if (verified.size < role.threshold) {
    throw new SignatureError(`${verified.size} valid signature(s) by ${roleName} keys; the threshold is ${role.threshold}`);
  }
  return [...verified];
}
