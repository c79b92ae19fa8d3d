// The stored trust root chain: every root.json version, kept so that devices can walk
// rotations one by one. Whether a version may enter is decided by the trust service.
import { isUniqueViolation, type SqlSession } from '../sql.js';
import { SluiceError } from '../../errors.js';
import type { SignedDocument } from '../../../signing/signed.js';
import type { Root } from '../../../signing/root.js';

export class TrustRootRepository {
  constructor(private readonly sql: SqlSession) {}

  /** The newest version, or undefined before the first root is adopted. */
  async latest(): Promise<SignedDocument<Root> | undefined> {
    const row = await this.sql.get<{ document: string }>('SELECT document FROM trust_roots ORDER BY version DESC LIMIT 1');
    return row && JSON.parse(row.document);
  }

  async byVersion(version: number): Promise<SignedDocument<Root> | undefined> {
    const row = await this.sql.get<{ document: string }>('SELECT document FROM trust_roots WHERE version = ?', [version]);
    return row && JSON.parse(row.document);
  }

  /** Stores a version; a version already stored (another process rotated first) is a conflict. */
  async insert(document: SignedDocument<Root>): Promise<void> {
    try {
      await this.sql.run('INSERT INTO trust_roots (version, document) VALUES (?, ?)', [document.signed.version, JSON.stringify(document)]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new SluiceError('conflict', `root version ${document.signed.version} is already stored`);
      throw error;
    }
  }
}
