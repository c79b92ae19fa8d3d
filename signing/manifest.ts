// Release manifests (DESIGN.md, "Trust model"): one signed document binds product, version,
// hardware and the artifact's digest and size, against mix-and-match.
import semver from 'semver';
import type { Root } from './root.js';
import { verifyThreshold, type SignedDocument } from './signed.js';
import { ExpiredError, ManifestInvalidError } from './errors.js';

export interface ReleaseManifest {
  type: 'release';
  product: string;
  version: string;
  hardware: string[];
  artifact: { name: string; size: number; sha256: string };
  minVersion?: string;
  fixes: string[];
  notes: string;
  createdAt: string;
  expires?: string;
  /** An explicit, signed downgrade: the only way a device accepts a lower version. */
  downgrade?: boolean;
}

export function createManifest(fields: Omit<ReleaseManifest, 'type' | 'createdAt' | 'fixes' | 'notes'> & Partial<Pick<ReleaseManifest, 'createdAt' | 'fixes' | 'notes'>>): ReleaseManifest {
  return validateManifestShape({
    type: 'release',
    ...fields,
    fixes: fields.fixes ?? [],
    notes: fields.notes ?? '',
    createdAt: fields.createdAt ?? new Date().toISOString(),
  });
}

export function validateManifestShape(value: unknown): ReleaseManifest {
  const manifest = value as ReleaseManifest;
  const fail = (field: string, why: string) => { throw new ManifestInvalidError(`manifest field "${field}" ${why}`); };
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) fail('signed', 'must be an object');
  if (manifest.type !== 'release') fail('type', 'must be "release"');
  if (typeof manifest.product !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(manifest.product)) fail('product', 'must be a product id');
  if (typeof manifest.version !== 'string' || !semver.valid(manifest.version)) fail('version', 'must be a semantic version');
  if (!Array.isArray(manifest.hardware) || manifest.hardware.length === 0 || !manifest.hardware.every((item) => typeof item === 'string' && item.length > 0)) {
    fail('hardware', 'must list at least one hardware id');
  }
  const artifact = manifest.artifact;
  if (!artifact || typeof artifact !== 'object') fail('artifact', 'must be an object');
  if (typeof artifact.name !== 'string' || artifact.name.length === 0 || artifact.name.length > 255) fail('artifact.name', 'must be a file name');
  if (!Number.isSafeInteger(artifact.size) || artifact.size < 0) fail('artifact.size', 'must be a non-negative integer');
  if (typeof artifact.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(artifact.sha256)) fail('artifact.sha256', 'must be 64 lowercase hex digits');
  if (manifest.minVersion !== undefined && (typeof manifest.minVersion !== 'string' || !semver.valid(manifest.minVersion))) fail('minVersion', 'must be a semantic version');
  if (!Array.isArray(manifest.fixes) || !manifest.fixes.every((item) => typeof item === 'string')) fail('fixes', 'must be a list of fault ids');
  if (typeof manifest.notes !== 'string') fail('notes', 'must be text');
  if (typeof manifest.createdAt !== 'string' || Number.isNaN(Date.parse(manifest.createdAt))) fail('createdAt', 'must be a date-time');
  if (manifest.expires !== undefined && (typeof manifest.expires !== 'string' || Number.isNaN(Date.parse(manifest.expires)))) fail('expires', 'must be a date-time');
  if (manifest.downgrade !== undefined && typeof manifest.downgrade !== 'boolean') fail('downgrade', 'must be true or false');
  return manifest;
}

/** Shape, then a threshold of the root's release keys, then expiry. */
export function verifyManifest(root: Root, document: SignedDocument<unknown>, now: Date): ReleaseManifest {
  const manifest = validateManifestShape(document?.signed);
  verifyThreshold(document, root.keys, root.roles.release, 'release');
  if (manifest.expires && Date.parse(manifest.expires) <= now.getTime()) {
    throw new ExpiredError(`the manifest of ${manifest.product} ${manifest.version} expired at ${manifest.expires}`);
  }
  return manifest;
}
