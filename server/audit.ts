// The one audit writer: who did what, when, to what (DESIGN.md: every plan transition,
// consent, upload and download is written here). Callers pass the transaction's db so the
// audit row commits or rolls back with the change it records.
import type { Db } from './storage/database.js';

export interface AuditEntry {
  actor: string;
  action: string;
  subject: string;
  details?: Record<string, unknown>;
  at?: Date;
}

export function recordAudit(db: Db, entry: AuditEntry): void {
  db.prepare('INSERT INTO audit (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)').run(
    (entry.at ?? new Date()).toISOString(),
    entry.actor,
    entry.action,
    entry.subject,
    entry.details ? JSON.stringify(entry.details) : null,
  );
}

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown> | null;
}

export function listAudit(db: Db, filter: { subject?: string; action?: string; limit?: number; before?: number }): AuditRow[] {
  const clauses: string[] = [];
  const values: unknown[] = [];
  if (filter.subject) { clauses.push('subject = ?'); values.push(filter.subject); }
  if (filter.action) { clauses.push('action = ?'); values.push(filter.action); }
  if (filter.before) { clauses.push('id < ?'); values.push(filter.before); }
  const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  const rows = db
    .prepare(`SELECT * FROM audit ${where} ORDER BY id DESC LIMIT ?`)
    .all(...values, Math.min(filter.limit ?? 100, 1000)) as (Omit<AuditRow, 'details'> & { details: string | null })[];
  return rows.map((row) => ({ ...row, details: row.details ? JSON.parse(row.details) : null }));
}
