// What GET /support-sessions returns, and the collectors support may ask for. The device runs
// only the collectors configured on it; these names merely select among them.
import { Type } from 'typebox';
import type { SluiceContext } from '../context.js';
import { SluiceError } from '../errors.js';
import { recordAudit } from '../audit.js';
import { effectiveStatus, transitionSession, defaultConsentHours, type SessionStatus } from '../domain/support-sessions.js';

export const collectorsSchema = Type.Array(Type.Union([Type.Literal('logs'), Type.Literal('journal'), Type.Literal('system')]), { minItems: 1, maxItems: 3 });

export interface SessionRow {
  id: string; device: string; customer: string; reason: string; collect: string; status: SessionStatus;
  requested_by: string; requested_at: string; decided_by: string | null; decided_at: string | null; expires_at: string | null;
  withdrawn_at: string | null; uploaded_at: string | null; bundle_sha256: string | null; bundle_size: number | null;
}

export function sessionView(row: SessionRow, now: Date) {
  return {
    id: row.id, device: row.device, customer: row.customer, reason: row.reason, collect: JSON.parse(row.collect) as string[],
    status: effectiveStatus({ status: row.status, expiresAt: row.expires_at ? new Date(row.expires_at) : null }, now),
    requestedBy: row.requested_by, requestedAt: row.requested_at, decidedBy: row.decided_by, decidedAt: row.decided_at,
    expiresAt: row.expires_at, withdrawnAt: row.withdrawn_at, uploadedAt: row.uploaded_at,
    bundle: row.uploaded_at ? { sha256: row.bundle_sha256, size: row.bundle_size } : null,
  };
}

/** A customer's answer to a support request: consent (with an expiry), refuse, or withdraw. */
export function decideSession(context: SluiceContext, id: string, customer: string, event: 'consent' | 'refuse' | 'withdraw', actor: string, hours = defaultConsentHours): void {
  const { db } = context;
  const now = context.options.now();
  db.transaction(() => {
    const row = db.prepare('SELECT * FROM support_sessions WHERE id = ?').get(id) as SessionRow | undefined;
    // Another customer's session is "not found", exactly like one that does not exist.
    if (!row || row.customer !== customer) throw new SluiceError('not_found', `no support session "${id}"`);
    const next = transitionSession({ status: row.status, expiresAt: row.expires_at ? new Date(row.expires_at) : null }, event, now);
    const changes = event === 'withdraw'
      ? { status: next, withdrawn_at: now.toISOString() }
      : { status: next, decided_by: actor, decided_at: now.toISOString(), expires_at: event === 'consent' ? new Date(now.getTime() + hours * 3600_000).toISOString() : null };
    db.prepare(`UPDATE support_sessions SET ${Object.keys(changes).map((key) => `${key} = @${key}`).join(', ')} WHERE id = @id`).run({ ...changes, id: row.id });
    recordAudit(db, { at: now, actor, action: `support.${event}`, subject: `support-session:${row.id}`, details: changes });
  })();
}
