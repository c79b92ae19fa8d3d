// root.json (DESIGN.md, "Trust model"): the keys and thresholds of the root, release and
// server roles, signed by the root keys, which stay offline. Rotation: a new root must be
// signed by a threshold of the old root's root keys and of its own, one version at a time.
import type { KeyObject } from 'node:crypto';
import { keyIdOf, rawPublicKey } from './keys.js';
import { verifyThreshold, type RoleKeys, type RootKey, type SignedDocument } from './signed.js';
import { ExpiredError, ManifestInvalidError, RootVersionError } from './errors.js';

export type RoleName = 'root' | 'release' | 'server';
export const roleNames: readonly RoleName[] = ['root', 'release', 'server'];

export interface Root {
  type: 'root';
  version: number;
  expires: string;
  keys: Record<string, RootKey>;
  roles: Record<RoleName, RoleKeys>;
}

export function rootKeyOf(key: KeyObject): RootKey {
  return { keytype: 'ed25519', public: rawPublicKey(key).toString('hex') };
}

export function createRoot(options: {
  version?: number;
  expires: Date;
  roles: Record<RoleName, { keys: KeyObject[]; threshold?: number }>;
}): Root {
  const keys: Record<string, RootKey> = {};
  const roles = {} as Record<RoleName, RoleKeys>;
  for (const name of roleNames) {
    const role = options.roles[name];
    const keyids = role.keys.map((key) => {
      const id = keyIdOf(key);
      keys[id] = rootKeyOf(key);
      return id;
    });
    roles[name] = { keyids, threshold: role.threshold ?? 1 };
  }
  return { type: 'root', version: options.version ?? 1, expires: options.expires.toISOString(), keys, roles };
}

export function validateRootShape(value: unknown): Root {
  const root = value as Root;
  const fail = (field: string) => { throw new ManifestInvalidError(`root.json: "${field}" is missing or malformed`); };
  if (!root || typeof root !== 'object') fail('signed');
  if (root.type !== 'root') fail('type');
  if (!Number.isInteger(root.version) || root.version < 1) fail('version');
  if (typeof root.expires !== 'string' || Number.isNaN(Date.parse(root.expires))) fail('expires');
  if (!root.keys || typeof root.keys !== 'object') fail('keys');
  if (!root.roles || typeof root.roles !== 'object') fail('roles');
  for (const name of roleNames) {
    const role = root.roles[name];
    if (!role || !Array.isArray(role.keyids) || !Number.isInteger(role.threshold) || role.threshold < 1) fail(`roles.${name}`);
    if (role.threshold > role.keyids.length) fail(`roles.${name}.threshold`);
  }
  return root;
}

function assertNotExpired(root: Root, now: Date): void {
  if (Date.parse(root.expires) <= now.getTime()) throw new ExpiredError(`root version ${root.version} expired at ${root.expires}`);
}

/** A root trusted on its own (a pinned or first root): self-signed by its root threshold, not expired. */
export function verifyRoot(document: SignedDocument<unknown>, now: Date): Root {
  const root = validateRootShape(document?.signed);
  verifyThreshold(document, root.keys, root.roles.root, 'root');
  assertNotExpired(root, now);
  return root;
}

/**
 * The next root: version trusted+1, signed by a threshold of the trusted root's root keys
 * and of its own. Expiry is not checked here: a device walking several rotations may pass
 * through roots that have since expired (as in TUF's client workflow, 5.3); the trust store
 * checks the final one.
 */
export function verifyRootUpdate(trusted: Root, candidate: SignedDocument<unknown>, _now: Date): Root {
  const next = validateRootShape(candidate?.signed);
  if (next.version !== trusted.version + 1) {
    throw new RootVersionError(`expected root version ${trusted.version + 1}, got ${next.version}`);
  }
  verifyThreshold(candidate, trusted.keys, trusted.roles.root, 'old root');
  verifyThreshold(candidate, next.keys, next.roles.root, 'new root');
  return next;
}

export { assertNotExpired as assertRootNotExpired };
