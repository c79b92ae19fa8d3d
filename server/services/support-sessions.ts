// What GET /support-sessions returns, and the collectors support may ask for. The device runs
// only the collectors configured on it; these names merely select among them.
import { Type } from 'typebox';
import { effectiveStatus, type SessionStatus } from '../domain/support-sessions.js';

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
