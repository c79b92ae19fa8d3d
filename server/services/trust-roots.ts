// The server's trust root chain (DESIGN.md, "Trust model"). Every version is stored so that
// devices can walk rotations one by one (GET /api/v1/trust/root/N.json). A new version enters
// only through verifyRootUpdate: a threshold of the old root keys and of its own. Nothing is
// cached: each process reads the chain from the store, so a rotation made through one
// process holds at once in all of them. A root the fleet could not follow is refused too
// (assertFleetCanFollow): signed correctly, it would still freeze every device that takes it.
import type { Store } from '../storage/store.js';
import type { SignedDocument } from '../../signing/signed.js';
import { verifyRoot, verifyRootUpdate, type Root } from '../../signing/root.js';
import { SigningError } from '../../signing/errors.js';
import { SluiceError } from '../errors.js';

/** The key id this server signs check-in answers with, when it has a server key. */
export interface SigningKey {
  serverKeyId?: string;
}

export interface TrustRoots {
  current(tx?: Store): Promise<{ root: Root; document: SignedDocument<Root> }>;
  byVersion(version: number): Promise<SignedDocument<Root> | null>;
  /** Verifies root version current+1 against the current one and stores it through `tx`. */
  rotate(candidate: SignedDocument<Root>, now: Date, tx?: Store, signing?: SigningKey): Promise<Root>;
  /** Stores an operator-supplied root.json at start-up (first run, or a newer one). */
  adopt(document: SignedDocument<Root>, now: Date, signing?: SigningKey): Promise<void>;
}

/**
 * Refuses a root that would leave every device that takes it unable to act: one already
 * expired (the agent trusts nothing under an expired newest root), or one under which this
 * server's check-in answers no longer verify (its key not in the server role, or a server
 * threshold above the one signature each answer carries). Recovery from either needs the
 * offline root keys again, and meanwhile the fleet stands still.
 */
export function assertFleetCanFollow(root: Root, now: Date, signing: SigningKey = {}): void {
  if (Date.parse(root.expires) <= now.getTime()) {
    throw new SluiceError(
      'root_unusable',
      `root version ${root.version} expired at ${root.expires}: devices would refuse it and stop updating`,
    );
  }
  if (!signing.serverKeyId) return;
  if (!root.roles.server.keyids.includes(signing.serverKeyId)) {
    throw new SluiceError(
      'root_unusable',
      `root version ${root.version}'s server role does not include this server's key ${signing.serverKeyId}: devices would refuse every check-in answer`,
    );
  }
  if (root.roles.server.threshold > 1) {
    throw new SluiceError(
      'root_unusable',
      `root version ${root.version}'s server threshold is ${root.roles.server.threshold}, and this server signs each check-in answer with one key`,
    );
  }
}

export function createTrustRoots(store: Store): TrustRoots {
  const current = async (tx: Store = store) => {
    const document = await tx.trustRoots.latest();
    if (!document) throw new Error('no trust root configured');
    return { root: document.signed, document };
  };

  const rotate = async (candidate: SignedDocument<Root>, now: Date, tx: Store = store, signing: SigningKey = {}) => {
    const trusted = (await current(tx)).root;
    let accepted: Root;
    try {
      accepted = verifyRootUpdate(trusted, candidate, now);
    } catch (error) {
      if (error instanceof SigningError) throw new SluiceError('signature_invalid', `root rejected: ${error.message}`);
      throw error;
    }
    assertFleetCanFollow(accepted, now, signing);
    await tx.trustRoots.insert(candidate);
    return accepted;
  };

  const adoptOnce = (document: SignedDocument<Root>, now: Date, signing: SigningKey) =>
    store.transaction(async (tx) => {
      const stored = await tx.trustRoots.latest();
      if (!stored) {
        assertFleetCanFollow(verifyRoot(document, now), now, signing);
        await tx.trustRoots.insert(document);
        return;
      }
      if (document.signed.version === stored.signed.version) {
        if (JSON.stringify(document) !== JSON.stringify(stored)) {
          throw new Error(`root.json version ${document.signed.version} differs from the stored root of the same version`);
        }
        return;
      }
      if (document.signed.version < stored.signed.version) return; // an older pinned file: the chain already has newer roots
      // A newer root given on the command line must chain from the stored one, version by version.
      if (document.signed.version > stored.signed.version + 1) {
        throw new Error(`root.json is version ${document.signed.version}; add version ${stored.signed.version + 1} first`);
      }
      await rotate(document, now, tx, signing);
    });

  return {
    current,
    byVersion: async (version) => (await store.trustRoots.byVersion(version)) ?? null,
    rotate,
    async adopt(document, now, signing = {}) {
      try {
        await adoptOnce(document, now, signing);
      } catch (error) {
        // Several processes starting together on one database: one stored the version first.
        // Looking again finds it and checks that it is the same document.
        if (!(error instanceof SluiceError && error.code === 'conflict')) throw error;
        await adoptOnce(document, now, signing);
      }
    },
  };
}
