// Remote support sessions. Every change is a conditional update on the status the caller
// saw, so that a consent, an expiry or an upload is recorded once however many processes
// act on the session at the same time.
import type { SqlSession, SqlValue } from '../sql.js';
import { toDate, toDateOrNull, type SupportSession } from './records.js';
import type { SessionStatus } from '../../domain/support-sessions.js';

interface SessionRow {
  id: string;
  device: string;
  customer: string;
  reason: string;
  collect: string;
  status: SessionStatus;
  requested_by: string;
  requested_at: string;
  decided_by: string | null;
  decided_at: string | null;
  expires_at: string | null;
  withdrawn_at: string | null;
  uploaded_at: string | null;
  bundle_sha256: string | null;
  bundle_size: number | string | null;
}

const toSession = (row: SessionRow): SupportSession => ({
  id: row.id,
  device: row.device,
  customer: row.customer,
  reason: row.reason,
  collect: JSON.parse(row.collect) as string[],
  status: row.status,
  requestedBy: row.requested_by,
  requestedAt: toDate(row.requested_at),
  decidedBy: row.decided_by,
  decidedAt: toDateOrNull(row.decided_at),
  expiresAt: toDateOrNull(row.expires_at),
  withdrawnAt: toDateOrNull(row.withdrawn_at),
  uploadedAt: toDateOrNull(row.uploaded_at),
  bundle: row.uploaded_at && row.bundle_sha256 !== null ? { sha256: row.bundle_sha256, size: Number(row.bundle_size) } : null,
});

export type NewSupportSession = Pick<SupportSession, 'id' | 'device' | 'customer' | 'reason' | 'collect' | 'requestedBy' | 'requestedAt'>;

/** A customer's decision: consent (with its expiry), refusal, or withdrawal. */
export type SessionDecision =
  | { status: 'consented' | 'refused'; decidedBy: string; decidedAt: Date; expiresAt: Date | null }
  | { status: 'withdrawn'; withdrawnAt: Date };

export class SupportSessionRepository {
  constructor(private readonly sql: SqlSession) {}

  async get(id: string): Promise<SupportSession | undefined> {
    const row = await this.sql.get<SessionRow>('SELECT * FROM support_sessions WHERE id = ?', [id]);
    return row && toSession(row);
  }

  /** Newest first; a customer's own, or everyone's. */
  async list(filter: { customer?: string | null; limit?: number } = {}): Promise<SupportSession[]> {
    const params: SqlValue[] = [];
    let where = '';
    if (filter.customer) {
      where = 'WHERE customer = ?';
      params.push(filter.customer);
    }
    params.push(filter.limit ?? 1000);
    return (await this.sql.all<SessionRow>(`SELECT * FROM support_sessions ${where} ORDER BY requested_at DESC, id LIMIT ?`, params)).map(
      toSession,
    );
  }

  /** The device's sessions whose stored status is consented, oldest request first (live or lapsed). */
  async consentedOfDevice(device: string): Promise<SupportSession[]> {
    return (
      await this.sql.all<SessionRow>("SELECT * FROM support_sessions WHERE device = ? AND status = 'consented' ORDER BY requested_at, id", [
        device,
      ])
    ).map(toSession);
  }

  async insert(session: NewSupportSession): Promise<void> {
    await this.sql.run(
      `INSERT INTO support_sessions (id, device, customer, reason, collect, status, requested_by, requested_at) VALUES (?, ?, ?, ?, ?, 'requested', ?, ?)`,
      [
        session.id,
        session.device,
        session.customer,
        session.reason,
        JSON.stringify(session.collect),
        session.requestedBy,
        session.requestedAt.toISOString(),
      ],
    );
  }

  /** Records the decision if the session is still `from`; false when another request changed it first. */
  async decide(id: string, from: SessionStatus, decision: SessionDecision): Promise<boolean> {
    const { changes } =
      decision.status === 'withdrawn'
        ? await this.sql.run('UPDATE support_sessions SET status = ?, withdrawn_at = ? WHERE id = ? AND status = ?', [
            decision.status,
            decision.withdrawnAt.toISOString(),
            id,
            from,
          ])
        : await this.sql.run(
            'UPDATE support_sessions SET status = ?, decided_by = ?, decided_at = ?, expires_at = ? WHERE id = ? AND status = ?',
            [decision.status, decision.decidedBy, decision.decidedAt.toISOString(), decision.expiresAt?.toISOString() ?? null, id, from],
          );
    return changes === 1;
  }

  /** Records that the consent lapsed; true for the one caller that recorded it. */
  async markExpired(id: string, now: Date): Promise<boolean> {
    const { changes } = await this.sql.run(
      "UPDATE support_sessions SET status = 'expired' WHERE id = ? AND status = 'consented' AND expires_at <= ?",
      [id, now.toISOString()],
    );
    return changes === 1;
  }

  /** Records the one bundle, only while the consent is live; false otherwise. */
  async markUploaded(id: string, bundle: { sha256: string; size: number }, now: Date): Promise<boolean> {
    const { changes } = await this.sql.run(
      "UPDATE support_sessions SET status = 'uploaded', uploaded_at = ?, bundle_sha256 = ?, bundle_size = ? WHERE id = ? AND status = 'consented' AND expires_at > ?",
      [now.toISOString(), bundle.sha256, bundle.size, id, now.toISOString()],
    );
    return changes === 1;
  }
}
