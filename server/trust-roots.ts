// The server's copy of the trust root chain (DESIGN.md, "Trust model"). Every version is
// kept so that devices can walk rotations one by one (GET /api/v1/trust/root/N.json). A new
// version enters only through verifyRootUpdate: a threshold of the old root keys and of its own.
import type { Db } from './storage/database.js';
import type { SignedDocument } from '../signing/signed.js';
import { verifyRoot, verifyRootUpdate, type Root } from '../signing/root.js';
import { SluiceError } from './errors.js';
import { SigningError } from '../signing/errors.js';

export interface TrustRoots {
  current(): { root: Root; document: SignedDocument<Root> };
  byVersion(version: number): SignedDocument<Root> | null;
  /** Verifies and stores root version current+1. */
  rotate(candidate: SignedDocument<Root>, now: Date): Root;
  /** Stores an operator-supplied root.json at start-up (first run, or a newer one). */
  adopt(document: SignedDocument<Root>, now: Date): void;
}

export function createTrustRoots(db: Db): TrustRoots {
  const selectLatest = db.prepare('SELECT document FROM trust_roots ORDER BY version DESC LIMIT 1');
  const selectVersion = db.prepare('SELECT document FROM trust_roots WHERE version = ?');
  const insert = db.prepare('INSERT INTO trust_roots (version, document) VALUES (?, ?)');
  // Parsed once per version: the root is read on every release upload and check-in.
  let cached: { root: Root; document: SignedDocument<Root> } | null = null;

  const current = () => {
    const row = selectLatest.get() as { document: string } | undefined;
    if (!row) throw new Error('no trust root configured');
    if (!cached || JSON.stringify(cached.document) !== row.document) {
      const document = JSON.parse(row.document) as SignedDocument<Root>;
      cached = { root: document.signed, document };
    }
    return cached;
  };

  return {
    current,
    byVersion(version) {
      const row = selectVersion.get(version) as { document: string } | undefined;
      return row ? (JSON.parse(row.document) as SignedDocument<Root>) : null;
    },
    rotate(candidate, now) {
      const trusted = current().root;
      let accepted: Root;
      try {
        accepted = verifyRootUpdate(trusted, candidate, now);
      } catch (error) {
        if (error instanceof SigningError) throw new SluiceError('signature_invalid', `root rejected: ${error.message}`);
        throw error;
      }
      insert.run(accepted.version, JSON.stringify(candidate));
      return accepted;
    },
    adopt(document, now) {
      const latest = selectLatest.get() as { document: string } | undefined;
      if (!latest) {
        verifyRoot(document, now);
        insert.run(document.signed.version, JSON.stringify(document));
        return;
      }
      const stored = JSON.parse(latest.document) as SignedDocument<Root>;
      if (document.signed.version === stored.signed.version) {
        if (JSON.stringify(document) !== latest.document) {
          throw new Error(`root.json version ${document.signed.version} differs from the stored root of the same version`);
        }
        return;
      }
      if (document.signed.version < stored.signed.version) return; // an older pinned file: the chain already has newer roots
      // A newer root given on the command line must chain from the stored one, version by version.
      for (let version = stored.signed.version + 1; version < document.signed.version; version++) {
        throw new Error(`root.json is version ${document.signed.version}; add version ${version} first`);
      }
      this.rotate(document, now);
    },
  };
}
