// Release rows. A release is recorded only after its bytes are in the artifact store.
import type { Db } from './database.js';
import type { SignedDocument } from '../../signing/signed.js';
import type { ReleaseManifest } from '../../signing/manifest.js';

export interface ReleaseRow {
  id: string; product: string; version: string; manifest: string; sha256: string; size: number;
  sha1: string; md5: string; published_at: string; published_by: string; yanked_at: string | null; yank_reason: string | null;
}

export interface Release {
  id: string; product: string; version: string; sha256: string; size: number; sha1: string; md5: string;
  manifest: SignedDocument<ReleaseManifest>; publishedAt: string; publishedBy: string; yankedAt: string | null; yankReason: string | null;
}

export function toRelease(row: ReleaseRow): Release {
  return {
    id: row.id, product: row.product, version: row.version, sha256: row.sha256, size: row.size, sha1: row.sha1, md5: row.md5,
    manifest: JSON.parse(row.manifest), publishedAt: row.published_at, publishedBy: row.published_by,
    yankedAt: row.yanked_at, yankReason: row.yank_reason,
  };
}

export const getReleaseRow = (db: Db, id: string) => db.prepare('SELECT * FROM releases WHERE id = ?').get(id) as ReleaseRow | undefined;
export const getRelease = (db: Db, id: string) => { const row = getReleaseRow(db, id); return row ? toRelease(row) : undefined; };
export const releaseVersionExists = (db: Db, product: string, version: string) =>
  db.prepare('SELECT 1 FROM releases WHERE product = ? AND version = ?').get(product, version) !== undefined;

export function listReleases(db: Db, product?: string): Release[] {
  const rows = (product
    ? db.prepare('SELECT * FROM releases WHERE product = ? ORDER BY published_at DESC, id').all(product)
    : db.prepare('SELECT * FROM releases ORDER BY published_at DESC, id').all()) as ReleaseRow[];
  return rows.map(toRelease);
}

export function insertRelease(db: Db, release: Omit<ReleaseRow, 'yanked_at' | 'yank_reason'>): void {
  db.prepare(`INSERT INTO releases (id, product, version, manifest, sha256, size, sha1, md5, published_at, published_by)
              VALUES (@id, @product, @version, @manifest, @sha256, @size, @sha1, @md5, @published_at, @published_by)`).run(release);
}

/** Fills the DDI clients' SHA-1 and MD5 (server/services/legacy-digests.ts) wherever they are still empty. */
export function setLegacyDigests(db: Db, sha256: string, digests: { sha1: string; md5: string }): void {
  db.prepare("UPDATE releases SET sha1 = ?, md5 = ? WHERE sha256 = ? AND (sha1 = '' OR md5 = '')").run(digests.sha1, digests.md5, sha256);
}

export function markYanked(db: Db, id: string, reason: string, at: Date): void {
  db.prepare('UPDATE releases SET yanked_at = ?, yank_reason = ? WHERE id = ?').run(at.toISOString(), reason, id);
}

/** The digests of every release's artifact: what the artifact store must keep. */
export function releaseDigests(db: Db): Set<string> {
  return new Set((db.prepare('SELECT DISTINCT sha256 FROM releases').all() as { sha256: string }[]).map((row) => row.sha256));
}
