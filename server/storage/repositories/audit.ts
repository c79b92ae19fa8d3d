// The one audit writer: who did what, when, to what. Written through the transaction's
// store, the audit row commits or rolls back with the change it records.
import { whereClause, type SqlSession, type SqlValue } from '../sql.js';
import { toDate, type AuditEntry, type AuditRecord } from './records.js';

interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: string | null;
}

export class AuditRepository {
  constructor(private readonly sql: SqlSession) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.sql.run('INSERT INTO audit (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)', [
      (entry.at ?? new Date()).toISOString(),
      entry.actor,
      entry.action,
      entry.subject,
      entry.details ? JSON.stringify(entry.details) : null,
    ]);
  }

  /** Newest first; `before` pages by id. */
  async list(filter: { subject?: string; action?: string; actor?: string; limit?: number; before?: number }): Promise<AuditRecord[]> {
    const { where, values } = whereClause({ subject: filter.subject, action: filter.action, actor: filter.actor });
    const clauses = where ? [where] : [];
    const params: SqlValue[] = [...values];
    if (filter.before) {
      clauses.push(where ? 'AND id < ?' : 'WHERE id < ?');
      params.push(filter.before);
    }
    params.push(Math.min(filter.limit ?? 100, 1000));
    const rows = await this.sql.all<AuditRow>(`SELECT * FROM audit ${clauses.join(' ')} ORDER BY id DESC LIMIT ?`, params);
    // Number(): PostgreSQL hands a BIGINT id back as text.
    return rows.map((row) => ({ ...row, id: Number(row.id), at: toDate(row.at), details: row.details ? JSON.parse(row.details) : null }));
  }

  /** How many rows record any of `actions` on `subject` (a plan's calendar SEQUENCE counts its transitions). */
  async countActions(subject: string, actions: readonly string[]): Promise<number> {
    if (actions.length === 0) return 0;
    const row = await this.sql.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM audit WHERE subject = ? AND action IN (${actions.map(() => '?').join(', ')})`,
      [subject, ...actions],
    );
    return Number(row?.n ?? 0);
  }

  /** How many rows record `action` on `subject`: what the exactly-once tests count. */
  async count(filter: { subject?: string; action?: string }): Promise<number> {
    const { where, values } = whereClause(filter);
    const row = await this.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM audit ${where}`, values);
    return Number(row?.n ?? 0);
  }
}
