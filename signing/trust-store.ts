// The trust store (STYLE.md, after tuf-js's TrustedMetadataStore): "only verified data can be
// held". Its only ways in verify first: a root enters through fromPinnedRoot or updateRoot
// (walkRoots repeats updateRoot), a manifest comes out of verifyManifest as a VerifiedManifest,
// which no other code can produce. What it keeps is its own deep-frozen copy of what it
// verified, so a caller changing its document afterwards changes nothing inside.
import { verifyRootSignatures, verifyRootUpdate, assertRootNotExpired, type Root } from './root.js';
import { verifyManifest, type ReleaseManifest } from './manifest.js';
import { verifyThreshold, type SignedDocument } from './signed.js';
import { canonicalize } from './canonical.js';
import { SignatureError } from './errors.js';

declare const verified: unique symbol;
type DeepReadonly<T> = T extends (infer Item)[]
  ? readonly DeepReadonly<Item>[]
  : T extends object
    ? { readonly [Key in keyof T]: DeepReadonly<T[Key]> }
    : T;
/** A manifest that passed TrustStore.verifyManifest; the brand cannot be had any other way. */
export type VerifiedManifest = DeepReadonly<ReleaseManifest> & { readonly [verified]: true };

/** Bounds a walk against a server that offers roots without end (TUF 5.3: max root rotations). */
export const maximumRootWalk = 1024;

export class TrustStore {
  private current: Root;
  private currentDocument: SignedDocument<Root>;

  private constructor(document: SignedDocument<Root>) {
    this.current = document.signed;
    this.currentDocument = document;
  }

  /**
   * Devices ship with a pinned root.json (DESIGN.md); it must be well-formed and signed by its
   * own root threshold. It may have expired while the device sat on a shelf: it is still the
   * anchor newer roots are walked from, and every use of the store refuses an expired root.
   */
  static fromPinnedRoot(document: SignedDocument<unknown>, _now: Date): TrustStore {
    const copy = detach(document);
    verifyRootSignatures(copy);
    return new TrustStore(deepFreeze(copy) as SignedDocument<Root>);
  }

  get root(): DeepReadonly<Root> {
    return this.current;
  }

  /** The signed document of the current root, to persist after a rotation. */
  get rootDocument(): DeepReadonly<SignedDocument<Root>> {
    return this.currentDocument;
  }

  /** One rotation (DESIGN.md): version N+1, signed by a threshold of the old and of the new root keys. */
  updateRoot(candidate: SignedDocument<unknown>, now: Date): DeepReadonly<Root> {
    const copy = detach(candidate);
    verifyRootUpdate(this.current, copy, now);
    this.currentDocument = deepFreeze(copy) as SignedDocument<Root>;
    this.current = this.currentDocument.signed;
    return this.current;
  }

  /**
   * "Devices walk versions one by one (GET /api/v1/trust/root/N.json)": N+1, N+2, ... until
   * fetchRoot answers null. A refused root stops the walk with an error, leaving the last
   * accepted one in place. Intermediate roots may have expired (TUF 5.3); the final may not.
   */
  async walkRoots(fetchRoot: (version: number) => Promise<SignedDocument<unknown> | null>, now: Date): Promise<DeepReadonly<Root>> {
    for (let step = 0; step < maximumRootWalk; step++) {
      const candidate = await fetchRoot(this.current.version + 1);
      if (candidate === null || candidate === undefined) break;
      this.updateRoot(candidate, now);
    }
    assertRootNotExpired(this.current, now);
    return this.current;
  }

  /** A release manifest: shape, a threshold of the current root's release keys, not expired, and the root not expired. */
  verifyManifest(document: SignedDocument<unknown>, now: Date): VerifiedManifest {
    assertRootNotExpired(this.current, now);
    const copy = detach(document);
    verifyManifest(this.current, copy, now);
    return deepFreeze(copy.signed) as VerifiedManifest;
  }

  /** A document signed by the server's online key (the check-in answer); returns a copy of what verified. */
  verifyServerDocument<T>(document: SignedDocument<unknown>, now: Date): T {
    assertRootNotExpired(this.current, now);
    const copy = detach(document);
    verifyThreshold(copy, this.current.keys, this.current.roles.server, 'server');
    return copy.signed as T;
  }
}

/**
 * A private copy, taken before verification so that what is verified is exactly what is kept
 * (no later change through the caller's reference, no getter answering differently twice).
 */
function detach(document: SignedDocument<unknown>): SignedDocument<unknown> {
  let text: string;
  try {
    text = canonicalize(document);
  } catch (error) {
    throw new SignatureError(`the signed document is not JSON: ${(error as Error).message}`);
  }
  const copy = JSON.parse(text) as SignedDocument<unknown>;
  if (!copy || typeof copy !== 'object' || Array.isArray(copy))
    throw new SignatureError('a signed document must be an object with "signed" and "signatures"');
  return copy;
}

/** Freezes a parsed JSON value and everything in it: what many holders share, none may change. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
