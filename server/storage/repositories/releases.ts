// Releases. A release is recorded only after its bytes are in the artifact store.
import { isUniqueViolation, type SqlSession } from '../sql.js';
import { SluiceError } from '../../errors.js';
import { toDate, toDateOrNull, type Release } from './records.js';

interface ReleaseRow {
  id: string;
  product: string;
  version: string;
  manifest: string;
  sha256: string;
  size: number;
  sha1: string;
  md5: string;
  published_at: string;
  published_by: string;
  yanked_at: string | null;
  yank_reason: string | null;
}

const toRelease = (row: ReleaseRow): Release => ({
  id: row.id,
  product: row.product,
  version: row.version,
  sha256: row.sha256,
  size: Number(row.size),
  sha1: row.sha1,
  md5: row.md5,
  manifest: JSON.parse(row.manifest),
  publishedAt: toDate(row.published_at),
  publishedBy: row.published_by,
  yankedAt: toDateOrNull(row.yanked_at),
  yankReason: row.yank_reason,
});

export type NewRelease = Omit<Release, 'yankedAt' | 'yankReason'>;

export class ReleaseRepository {
  constructor(private readonly sql: SqlSession) {}

  async get(id: string): Promise<Release | undefined> {
    const row = await this.sql.get<ReleaseRow>('SELECT * FROM releases WHERE id = ?', [id]);
    return row && toRelease(row);
  }

  async versionExists(product: string, version: string): Promise<boolean> {
    return (await this.sql.get('SELECT 1 AS found FROM releases WHERE product = ? AND version = ?', [product, version])) !== undefined;
  }

  async list(product?: string): Promise<Release[]> {
    const rows = product
      ? await this.sql.all<ReleaseRow>('SELECT * FROM releases WHERE product = ? ORDER BY published_at DESC, id', [product])
      : await this.sql.all<ReleaseRow>('SELECT * FROM releases ORDER BY published_at DESC, id');
    return rows.map(toRelease);
  }

  /** Records the release; a product and version already published (a concurrent upload won) is `version_exists`. */
  async insert(release: NewRelease): Promise<void> {
    try {
      await this.sql.run(
        `INSERT INTO releases (id, product, version, manifest, sha256, size, sha1, md5, published_at, published_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          release.id,
          release.product,
          release.version,
          JSON.stringify(release.manifest),
          release.sha256,
          release.size,
          release.sha1,
          release.md5,
          release.publishedAt.toISOString(),
          release.publishedBy,
        ],
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new SluiceError('version_exists', `${release.product} ${release.version} is already published`);
      throw error;
    }
  }

  /** Fills the DDI clients' SHA-1 and MD5 wherever they are still empty. */
  async setLegacyDigests(sha256: string, digests: { sha1: string; md5: string }): Promise<void> {
    await this.sql.run("UPDATE releases SET sha1 = ?, md5 = ? WHERE sha256 = ? AND (sha1 = '' OR md5 = '')", [
      digests.sha1,
      digests.md5,
      sha256,
    ]);
  }

  /** Marks the release yanked; false when it already was (so a yank is acted on once). */
  async markYanked(id: string, reason: string, at: Date): Promise<boolean> {
    const { changes } = await this.sql.run('UPDATE releases SET yanked_at = ?, yank_reason = ? WHERE id = ? AND yanked_at IS NULL', [
      at.toISOString(),
      reason,
      id,
    ]);
    return changes === 1;
  }

  /** The digests of every release's artifact, uploaded chunk index and signed chunk pack: what the artifact store must keep. */
  async digests(): Promise<Set<string>> {
    const rows = await this.sql.all<{ sha256: string }>(
      'SELECT sha256 FROM releases UNION SELECT chunk_index_sha256 AS sha256 FROM releases WHERE chunk_index_sha256 IS NOT NULL',
    );
    const digests = new Set(rows.map((row) => row.sha256));
    // A pack has no column of its own (it is stored before its index is marked): its digest is the manifest's.
    const packed = await this.sql.all<{ manifest: string }>('SELECT manifest FROM releases WHERE manifest LIKE \'%"chunkPack"%\'');
    for (const row of packed) {
      const pack = (JSON.parse(row.manifest) as { signed?: { chunkPack?: { sha256?: unknown } } }).signed?.chunkPack?.sha256;
      if (typeof pack === 'string') digests.add(pack);
    }
    return digests;
  }

  /** Records that the release's chunk index is stored (docs/delta-updates.md); false when it already was. */
  async markChunkIndex(id: string, sha256: string): Promise<boolean> {
    const { changes } = await this.sql.run('UPDATE releases SET chunk_index_sha256 = ? WHERE id = ? AND chunk_index_sha256 IS NULL', [
      sha256,
      id,
    ]);
    return changes === 1;
  }

  /** The digest of the release's uploaded chunk index, or null before it is uploaded. */
  async chunkIndex(id: string): Promise<string | null> {
    const row = await this.sql.get<{ chunk_index_sha256: string | null }>('SELECT chunk_index_sha256 FROM releases WHERE id = ?', [id]);
    return row?.chunk_index_sha256 ?? null;
  }

  /**
   * How many devices have downloaded the release whole: those that reported `downloaded` for
   * it (sluice's agent and DDI clients alike report through the agent states).
   */
  async downloadCount(id: string): Promise<number> {
    const row = await this.sql.get<{ devices: number }>(
      "SELECT COUNT(DISTINCT device) AS devices FROM device_events WHERE release = ? AND state = 'downloaded'",
      [id],
    );
    return Number(row?.devices ?? 0);
  }

  /**
   * Whether a live plan assigns this release to the device: only then may the device fetch
   * its artifact. Downloading and staging are allowed any time after the plan is confirmed,
   * so a paused plan keeps its downloads too.
   */
  async deviceMayDownload(device: string, release: string): Promise<boolean> {
    const row = await this.sql.get(
      `SELECT 1 AS found FROM plan_devices pd JOIN plans p ON p.id = pd.plan
       WHERE pd.device = ? AND p.release = ? AND p.status IN ('confirmed', 'in_progress', 'paused') LIMIT 1`,
      [device, release],
    );
    return row !== undefined;
  }
}
