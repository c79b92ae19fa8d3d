// root.json (DESIGN.md, "Trust model"): the keys and thresholds of the root, release and
// server roles, signed by the root keys, which stay offline. Rotation: a new root must be
// signed by a threshold of the old root's root keys and of its own, one version at a time.
import type { KeyObject } from 'node:crypto';
import { keyIdOf, rawPublicKey, sha256Hex } from './keys.js';
import { verifyThreshold, type RoleKeys, type RootKey, type SignedDocument } from './signed.js';
import { ExpiredError, ManifestInvalidError, RootVersionError } from './errors.js';
import { isTimestamp } from './timestamps.js';

export type { RoleKeys, RootKey } from './signed.js';
export type RoleName = 'root' | 'release' | 'server';
export const roleNames: readonly RoleName[] = ['root', 'release', 'server'];

export interface Root {
  type: 'root';
  version: number;
  /** ISO 8601 date-time. */
  expires: string;
  keys: Record<string, RootKey>;
  roles: Record<RoleName, RoleKeys>;
}

export function rootKeyOf(key: KeyObject): RootKey {
  return { keytype: 'ed25519', public: rawPublicKey(key).toString('hex') };
}

/** Builds (does not sign) a root; each role lists its keys, threshold 1 unless given. */
export function createRoot(options: {
  version?: number;
  expires: Date;
  roles: Record<RoleName, { keys: KeyObject[]; threshold?: number }>;
}): Root {
  const keys: Record<string, RootKey> = {};
  const roles = {} as Record<RoleName, RoleKeys>;
  for (const name of roleNames) {
    const role = options.roles[name];
    const keyids = [...new Set(role.keys.map((key) => keyIdOf(key)))];
    for (const key of role.keys) keys[keyIdOf(key)] = rootKeyOf(key);
    roles[name] = { keyids, threshold: role.threshold ?? 1 };
  }
  return validateRootShape({ type: 'root', version: options.version ?? 1, expires: options.expires.toISOString(), keys, roles });
}

/**
 * A root that a threshold could ever be checked against: every key an Ed25519 key listed
 * under its own id, every role's keys listed once and present, a threshold it can reach.
 */
export function validateRootShape(value: unknown): Root {
  const root = value as Root;
  const fail = (field: string, why = 'is missing or malformed'): never => {
    throw new ManifestInvalidError(`root.json field "${field}" ${why}`);
  };
  if (!root || typeof root !== 'object' || Array.isArray(root)) fail('signed', 'must be an object');
  if (root.type !== 'root') fail('type', 'must be "root"');
  if (!Number.isSafeInteger(root.version) || root.version < 1) fail('version', 'must be a positive integer');
  if (!isTimestamp(root.expires)) fail('expires', 'must be an ISO 8601 date-time');
  if (!root.keys || typeof root.keys !== 'object' || Array.isArray(root.keys)) fail('keys', 'must be an object');
  for (const [keyid, key] of Object.entries(root.keys)) {
    if (!key || key.keytype !== 'ed25519') fail(`keys.${keyid}.keytype`, 'must be "ed25519"');
    if (typeof key.public !== 'string' || !/^[0-9a-f]{64}$/.test(key.public))
      fail(`keys.${keyid}.public`, 'must be 64 lowercase hex digits');
    if (sha256Hex(Buffer.from(key.public, 'hex')) !== keyid) fail(`keys.${keyid}`, 'is not the SHA-256 of its public key');
  }
  if (!root.roles || typeof root.roles !== 'object') fail('roles', 'must be an object');
  for (const name of roleNames) {
    const role = root.roles[name];
    if (!role || !Array.isArray(role.keyids)) fail(`roles.${name}.keyids`, 'must be a list');
    if (new Set(role.keyids).size !== role.keyids.length) fail(`roles.${name}.keyids`, 'lists a key twice');
    for (const keyid of role.keyids) {
      if (typeof keyid !== 'string' || !Object.hasOwn(root.keys, keyid))
        fail(`roles.${name}.keyids`, `names a key not in "keys": ${String(keyid)}`);
    }
    if (!Number.isSafeInteger(role.threshold) || role.threshold < 1) fail(`roles.${name}.threshold`, 'must be a positive integer');
    if (role.threshold > role.keyids.length) fail(`roles.${name}.threshold`, `is ${role.threshold} with only ${role.keyids.length} key(s)`);
  }
  return root;
}

export function assertRootNotExpired(root: Root, now: Date): void {
  if (Date.parse(root.expires) <= now.getTime()) throw new ExpiredError(`root version ${root.version} expired at ${root.expires}`);
}

/** A root trusted on its own (a pinned or first root): well-formed, self-signed by its root threshold, not expired. */
export function verifyRoot(document: SignedDocument<unknown>, now: Date): Root {
  const root = verifyRootSignatures(document);
  assertRootNotExpired(root, now);
  return root;
}

/** Well-formed and self-signed, expired or not: the anchor a device walks newer roots from. */
export function verifyRootSignatures(document: SignedDocument<unknown>): Root {
  const root = validateRootShape(document?.signed);
  verifyThreshold(document, root.keys, root.roles.root, 'root');
  return root;
}

/**
 * The next root (DESIGN.md: "a new root must be signed by a threshold of the old root's root
 * keys and of its own"): version trusted+1 exactly, then both thresholds. Expiry is not checked
 * here: a device walking several rotations may pass through roots that have since expired
 * (TUF client workflow 5.3); the trust store checks the final one.
 */
export function verifyRootUpdate(trusted: Root, candidate: SignedDocument<unknown>, _now: Date): Root {
  const next = validateRootShape(candidate?.signed);
  if (next.version !== trusted.version + 1) {
    throw new RootVersionError(`expected root version ${trusted.version + 1}, got ${next.version}`);
  }
  verifyThreshold(candidate, trusted.keys, trusted.roles.root, `old root (version ${trusted.version})`);
  verifyThreshold(candidate, next.keys, next.roles.root, `new root (version ${next.version})`);
  return next;
}
