// Release manifests as check-in answers carry them: parsed once per release and kept with
// their canonical text, so that answering a device in a rollout neither parses nor
// canonicalizes the same manifest again. The plans repository decodes the stored text through
// it (its check-in read hands out these objects); the check-in signs with `known`. A
// release's manifest never changes (its yank is a separate column, read at every check-in);
// the stored text is compared anyway, so a different text is parsed afresh. Frozen, because
// every answer shares one object. Losable: a restarted process parses again.
import { canonicalize } from '../../signing/canonical.js';
import { deepFreeze } from '../../signing/trust-store.js';
import type { SignedDocument } from '../../signing/signed.js';
import type { ReleaseManifest } from '../../signing/manifest.js';

type Manifest = SignedDocument<ReleaseManifest>;

export interface ManifestMemo {
  /** The stored manifest text, parsed and frozen; the same object while the text is the same. */
  manifestOf(stored: { id: string; manifest: string }): Manifest;
  /** Canonical text of every manifest handed out, for canonicalize's `known`. */
  readonly known: ReadonlyMap<object, string>;
}

export function createManifestMemo(limit = 1000): ManifestMemo {
  const byRelease = new Map<string, { text: string; manifest: Manifest }>();
  const known = new Map<object, string>();
  return {
    known,
    manifestOf(stored) {
      const remembered = byRelease.get(stored.id);
      if (remembered?.text === stored.manifest) return remembered.manifest;
      if (remembered) known.delete(remembered.manifest);
      if (byRelease.size >= limit) {
        byRelease.clear();
        known.clear();
      }
      const manifest = deepFreeze(JSON.parse(stored.manifest) as Manifest);
      byRelease.set(stored.id, { text: stored.manifest, manifest });
      known.set(manifest, canonicalize(manifest));
      return manifest;
    },
  };
}
