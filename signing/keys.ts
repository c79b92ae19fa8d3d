// Ed25519 keys through node:crypto (native, far faster than a JavaScript implementation).
// A key id is the hex SHA-256 of the raw 32-byte public key (DESIGN.md, "Trust model").
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';

export function generateKeyPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

export function rawPublicKey(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || !jwk.x) throw new Error('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

// Deriving the id exports the public key; the server signs every check-in with one key.
const keyIds = new WeakMap<KeyObject, string>();

export function keyIdOf(key: KeyObject): string {
  let id = keyIds.get(key);
  if (!id) {
    id = sha256Hex(rawPublicKey(key));
    keyIds.set(key, id);
  }
  return id;
}

export function publicKeyFromHex(hex: string): KeyObject {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error('an Ed25519 public key is 64 hex digits');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url') }, format: 'jwk' });
}

export function privateKeyToPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** Reads a PKCS#8 PEM file as written by writePrivateKeyFile (`sluice keys init`). */
export function loadPrivateKeyFile(path: string): KeyObject {
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read the key file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      cause: error,
    });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch {
    // OpenSSL's own message ("DECODER routines::unsupported") tells a user nothing.
    throw new Error(`${path} is not a private key in PKCS#8 PEM (as written by \`sluice keys init\`)`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${path} is not an Ed25519 private key`);
  return key;
}

/** Mode 0600 from the first byte, and never over an existing file (flag "wx"). */
export function writePrivateKeyFile(path: string, key: KeyObject): void {
  writeFileSync(path, privateKeyToPem(key), { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}
