// Release manifests (DESIGN.md, "Trust model"): one signed document binds product, version,
// hardware and the artifact's digest and size, against mix-and-match; a threshold of release
// keys signs it offline.
import semver from 'semver';
import type { Root } from './root.js';
import { verifyThreshold, type SignedDocument } from './signed.js';
import { ExpiredError, ManifestInvalidError } from './errors.js';
import { isTimestamp } from './timestamps.js';

export interface ReleaseManifest {
  type: 'release';
  product: string;
  /** Semantic version; the device refuses one that is not newer than what it runs. */
  version: string;
  /** The hardware ids this build runs on; a device of any other hardware refuses it. */
  hardware: string[];
  /** The device stops reading at `size` and refuses bytes whose SHA-256 differs. */
  artifact: { name: string; size: number; sha256: string };
  /** The lowest running version this update may be applied over. */
  minVersion?: string;
  /** Fault ids this release fixes (DESIGN.md, "Faults": C and D may be fixed by a release). */
  fixes: string[];
  notes: string;
  createdAt: string;
  expires?: string;
  /** An explicit, signed downgrade: the only way a device accepts a lower version. */
  downgrade?: boolean;
  /**
   * The running versions this release may replace, a semver range such as ">=3.0.0 <3.2.0".
   * Required with `downgrade`: the release keys, not the online server key, decide which
   * devices may go back, so a stolen server key cannot walk a fleet down from any version.
   */
  replaces?: string;
  /**
   * The artifact's chunk index for delta updates (signing/chunk-index.ts): its SHA-256 and
   * size, so a device believes only the index the release keys signed. Absent: full downloads.
   */
  chunkIndex?: { sha256: string; size: number };
  /**
   * The chunk pack (signing/chunk-pack.ts): every chunk compressed on its own, where the
   * chunk index says. Its SHA-256 and size let the server refuse other bytes; a device checks
   * each chunk it unpacks against the index.
   */
  chunkPack?: { sha256: string; size: number };
}

export type ManifestFields = Omit<ReleaseManifest, 'type' | 'createdAt' | 'fixes' | 'notes'> &
  Partial<Pick<ReleaseManifest, 'createdAt' | 'fixes' | 'notes'>>;

/** A complete, valid manifest: createdAt defaults to now, fixes to [], notes to ''. */
export function createManifest(fields: ManifestFields): ReleaseManifest {
  return validateManifestShape({
    type: 'release',
    ...fields,
    fixes: fields.fixes ?? [],
    notes: fields.notes ?? '',
    createdAt: fields.createdAt ?? new Date().toISOString(),
  });
}

const productId = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const hexDigest = /^[0-9a-f]{64}$/;

/** Returns the value typed as a manifest, or throws ManifestInvalidError naming the first bad field. */
export function validateManifestShape(value: unknown): ReleaseManifest {
  const manifest = value as ReleaseManifest;
  const fail = (field: string, why: string): never => {
    throw new ManifestInvalidError(`manifest field "${field}" ${why}`);
  };
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) fail('signed', 'must be an object');
  if (manifest.type !== 'release') fail('type', 'must be "release"');
  if (typeof manifest.product !== 'string' || !productId.test(manifest.product))
    fail('product', 'must be a product id (letters, digits, ".", "_", "-")');
  if (typeof manifest.version !== 'string' || !semver.valid(manifest.version)) fail('version', 'must be a semantic version');
  if (!Array.isArray(manifest.hardware) || manifest.hardware.length === 0) fail('hardware', 'must list at least one hardware id');
  if (!manifest.hardware.every((item) => typeof item === 'string' && item.length > 0)) fail('hardware', 'must hold non-empty hardware ids');
  const artifact = manifest.artifact;
  if (!artifact || typeof artifact !== 'object' || Array.isArray(artifact)) fail('artifact', 'must be an object');
  if (typeof artifact.name !== 'string' || artifact.name.length === 0 || artifact.name.length > 255 || /[/\\\0]/.test(artifact.name)) {
    fail('artifact.name', 'must be a file name without a directory');
  }
  if (!Number.isSafeInteger(artifact.size) || artifact.size < 0) fail('artifact.size', 'must be a non-negative integer');
  if (typeof artifact.sha256 !== 'string' || !hexDigest.test(artifact.sha256)) fail('artifact.sha256', 'must be 64 lowercase hex digits');
  if (manifest.minVersion !== undefined && (typeof manifest.minVersion !== 'string' || !semver.valid(manifest.minVersion)))
    fail('minVersion', 'must be a semantic version');
  if (!Array.isArray(manifest.fixes) || !manifest.fixes.every((item) => typeof item === 'string' && item.length > 0))
    fail('fixes', 'must be a list of fault ids');
  if (typeof manifest.notes !== 'string') fail('notes', 'must be text');
  if (!isTimestamp(manifest.createdAt)) fail('createdAt', 'must be an ISO 8601 date-time');
  if (manifest.expires !== undefined && !isTimestamp(manifest.expires)) fail('expires', 'must be an ISO 8601 date-time');
  if (manifest.downgrade !== undefined && typeof manifest.downgrade !== 'boolean') fail('downgrade', 'must be true or false');
  if (
    manifest.replaces !== undefined &&
    (typeof manifest.replaces !== 'string' || manifest.replaces.trim() === '' || semver.validRange(manifest.replaces) === null)
  ) {
    fail('replaces', 'must be a semver range, e.g. ">=3.0.0 <3.2.0"');
  }
  for (const field of ['chunkIndex', 'chunkPack'] as const) {
    if (manifest[field] === undefined) continue;
    const index = manifest[field];
    if (!index || typeof index !== 'object' || Array.isArray(index)) fail(field, 'must be an object');
    if (typeof index.sha256 !== 'string' || !hexDigest.test(index.sha256)) fail(`${field}.sha256`, 'must be 64 lowercase hex digits');
    if (!Number.isSafeInteger(index.size) || index.size <= 0) fail(`${field}.size`, 'must be a positive integer');
  }
  if (manifest.chunkPack !== undefined && manifest.chunkIndex === undefined)
    fail('chunkPack', 'needs a chunkIndex that says where its chunks are');
  if (manifest.downgrade === true && manifest.replaces === undefined)
    fail('replaces', 'is required with "downgrade": true (the running versions this downgrade may replace)');
  return manifest;
}

/**
 * Shape, then a threshold of the root's release keys, then expiry. Callers that keep the
 * result should get it from TrustStore.verifyManifest, which also checks the root itself.
 */
export function verifyManifest(root: Root, document: SignedDocument<unknown>, now: Date): ReleaseManifest {
  if (!document || typeof document !== 'object')
    throw new ManifestInvalidError('a signed manifest must be an object with "signed" and "signatures"');
  const manifest = validateManifestShape(document.signed);
  verifyThreshold(document, root.keys, root.roles.release, 'release');
  if (manifest.expires && Date.parse(manifest.expires) <= now.getTime()) {
    throw new ExpiredError(`the manifest of ${manifest.product} ${manifest.version} expired at ${manifest.expires}`);
  }
  return manifest;
}
