// Signed documents: { signed, signatures: [{ keyid, sig }] }, each signature over the
// canonical JSON of `signed` (DESIGN.md, "Trust model"), verified against a role's threshold.
import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalBytes, canonicalize } from './canonical.js';
import { keyIdOf, publicKeyFromHex, sha256Hex } from './keys.js';
import { SignatureError } from './errors.js';

export interface Signature {
  keyid: string;
  sig: string;
}
export interface SignedDocument<T> {
  signed: T;
  signatures: Signature[];
}
export interface RoleKeys {
  keyids: string[];
  threshold: number;
}
/** A public key as root.json lists it: the raw 32 bytes in hex. */
export interface RootKey {
  keytype: 'ed25519';
  public: string;
}

export function signDocument<T>(signed: T, privateKeys: KeyObject[]): SignedDocument<T> {
  const bytes = canonicalBytes(signed);
  return { signed, signatures: signaturesOver(bytes, privateKeys) };
}

/**
 * The same signed document as JSON text, with `signed` written as the very canonical bytes
 * that were signed: a server answering many requests serializes each answer once instead of
 * canonicalizing it for the signature and serializing it again for the reply. `known`: the
 * canonical text of immutable parts, as canonicalize takes it.
 */
export function signDocumentJson(signed: unknown, privateKeys: KeyObject[], known?: ReadonlyMap<object, string>): string {
  const text = canonicalize(signed, known);
  return documentJson(text, signaturesOver(Buffer.from(text, 'utf8'), privateKeys));
}

/** One key that signs elsewhere (the server's check-in signer, on a worker thread). */
export interface DetachedSigner {
  keyid: string;
  sign(bytes: Buffer): Promise<Buffer>;
}

/** signDocumentJson with a signature that arrives later. */
export async function signDocumentJsonWith(signed: unknown, signer: DetachedSigner, known?: ReadonlyMap<object, string>): Promise<string> {
  const text = canonicalize(signed, known);
  const signature = await signer.sign(Buffer.from(text, 'utf8'));
  return documentJson(text, [{ keyid: signer.keyid, sig: signature.toString('base64') }]);
}

function documentJson(canonicalSigned: string, signatures: Signature[]): string {
  return `{"signed":${canonicalSigned},"signatures":${JSON.stringify(signatures)}}`;
}

function signaturesOver(bytes: Buffer, privateKeys: KeyObject[]): Signature[] {
  return privateKeys.map((key) => ({ keyid: keyIdOf(key), sig: sign(null, bytes, key).toString('base64') }));
}

/**
 * Returns the key ids whose signatures verify; throws SignatureError unless at least
 * `threshold` distinct keys of the role signed. A signature by a key outside the role, a
 * second signature by the same key, and a key listed under an id that is not the SHA-256 of
 * its bytes (DESIGN.md: "a key id is the hex SHA-256 of the raw public key") all count for
 * nothing, so that one key can never reach a threshold of two.
 */
export function verifyThreshold(
  document: SignedDocument<unknown>,
  keys: Record<string, RootKey>,
  role: RoleKeys,
  roleName: string,
): string[] {
  if (!document || typeof document !== 'object' || !Array.isArray(document.signatures)) {
    throw new SignatureError(`the document for the ${roleName} role has no signatures list`);
  }
  if (!role || !Array.isArray(role.keyids) || !Number.isInteger(role.threshold) || role.threshold < 1) {
    throw new SignatureError(`the ${roleName} role has no valid threshold`);
  }
  let bytes: Buffer;
  try {
    bytes = canonicalBytes(document.signed);
  } catch (error) {
    // What cannot be canonicalized cannot have been signed (and must not become a 5xx).
    throw new SignatureError(`the document for the ${roleName} role is not canonical JSON: ${(error as Error).message}`);
  }
  const verified = new Set<string>();
  for (const signature of document.signatures) {
    if (!signature || typeof signature.keyid !== 'string' || typeof signature.sig !== 'string') continue;
    if (verified.has(signature.keyid) || !role.keyids.includes(signature.keyid)) continue;
    if (!Object.hasOwn(keys, signature.keyid)) continue;
    const key = keys[signature.keyid];
    if (!key || key.keytype !== 'ed25519' || typeof key.public !== 'string' || !/^[0-9a-f]{64}$/.test(key.public)) continue;
    if (sha256Hex(Buffer.from(key.public, 'hex')) !== signature.keyid) continue;
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
