// The trust store (STYLE.md, tuf-js): its only way in verifies. A manifest or a server
// document obtained from it has been verified against the current root; code that did not
// go through it cannot hold a VerifiedManifest.
import { verifyRoot, verifyRootUpdate, assertRootNotExpired, type Root } from './root.js';
import { verifyManifest, type ReleaseManifest } from './manifest.js';
import { verifyThreshold, type SignedDocument } from './signed.js';
import { ExpiredError } from './errors.js';

declare const verified: unique symbol;
export type VerifiedManifest = Readonly<ReleaseManifest> & { readonly [verified]: true };

const maximumRootWalk = 1024;

export class TrustStore {
  private current: Root;
  private currentDocument: SignedDocument<unknown>;

  private constructor(root: Root, document: SignedDocument<unknown>) {
    this.current = root;
    this.currentDocument = document;
  }

  /** Devices ship with a pinned root.json (DESIGN.md); it must verify on its own. */
  static fromPinnedRoot(document: SignedDocument<unknown>, now: Date): TrustStore {
    return new TrustStore(verifyRootOrWalkable(document, now), document);
  }

  get root(): Readonly<Root> {
    return this.current;
  }

  /** The signed document of the current root, to persist after a rotation. */
  get rootDocument(): SignedDocument<unknown> {
    return this.currentDocument;
  }

  /** Accepts root version N+1 if a threshold of the old and of the new root keys signed it. */
  updateRoot(candidate: SignedDocument<unknown>, now: Date): Root {
    this.current = verifyRootUpdate(this.current, candidate, now);
    this.currentDocument = candidate;
    return this.current;
  }

  /** Walks N+1, N+2, … until the server has no newer root; the final root must not be expired. */
  async walkRoots(fetchRoot: (version: number) => Promise<SignedDocument<unknown> | null>, now: Date): Promise<Root> {
    for (let step = 0; step < maximumRootWalk; step++) {
      const candidate = await fetchRoot(this.current.version + 1);
      if (!candidate) break;
      this.updateRoot(candidate, now);
    }
    assertRootNotExpired(this.current, now);
    return this.current;
  }

  verifyManifest(document: SignedDocument<unknown>, now: Date): VerifiedManifest {
    assertRootNotExpired(this.current, now);
    return Object.freeze(verifyManifest(this.current, document, now)) as VerifiedManifest;
  }

  /** A document signed by the server's online key (the check-in answer). */
  verifyServerDocument<T>(document: SignedDocument<unknown>, now: Date): T {
    assertRootNotExpired(this.current, now);
    verifyThreshold(document, this.current.keys, this.current.roles.server, 'server');
    return document.signed as T;
  }
}

/**
 * A pinned root may have expired while the device sat on a shelf; it is still the anchor from
 * which newer roots are walked, so only its signatures are checked here. Every use of the
 * store afterwards refuses an expired current root.
 */
function verifyRootOrWalkable(document: SignedDocument<unknown>, now: Date): Root {
  try {
    return verifyRoot(document, now);
  } catch (error) {
    if (error instanceof ExpiredError) return verifyRoot(document, new Date(0));
    throw error;
  }
}
