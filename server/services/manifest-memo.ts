// Release manifests as check-in answers carry them: parsed once per release and kept with
// their canonical text, so that answering a device in a rollout neither parses nor
// canonicalizes the same manifest again. A release's manifest never changes (its yank is a
// separate column, read from the row at every check-in); the stored text is compared anyway,
// so a different text is parsed afresh. Frozen, because every answer shares one object.
// Losable: a restarted process parses again.
import { canonicalize } from '../../signing/canonical.js';
import { deepFreeze } from '../../signing/trust-store.js';
import type { Release, ReleaseRow } from '../storage/releases.js';

type Manifest = Release['manifest'];

export interface ManifestMemo {
  /** The row's manifest, parsed and frozen; the same object while the text is the same. */
  manifestOf(row: Pick<ReleaseRow, 'id' | 'manifest'>): Manifest;
  /** Canonical text of every manifest handed out, for canonicalize's `known`. */
  readonly known: ReadonlyMap<object, string>;
}

export function createManifestMemo(limit = 1000): ManifestMemo {
  const byRelease = new Map<string, { text: string; manifest: Manifest }>();
  const known = new Map<object, string>();
  return {
    known,
    manifestOf(row) {
      const remembered = byRelease.get(row.id);
      if (remembered?.text === row.manifest) return remembered.manifest;
      if (remembered) known.delete(remembered.manifest);
      if (byRelease.size >= limit) { byRelease.clear(); known.clear(); }
      const manifest = deepFreeze(JSON.parse(row.manifest) as Manifest);
      byRelease.set(row.id, { text: row.manifest, manifest });
      known.set(manifest, canonicalize(manifest));
      return manifest;
    },
  };
}
