// Faults: reported with a sequential id (F-1001, F-1002, …), moved along their lifecycle by
// conditional updates, so that two processes acting on one fault change it once.
import { isUniqueViolation, whereClause, type SqlSession, type SqlValue } from '../sql.js';
import { toDate, toDateOrNull, type Fault } from './records.js';
import type { FaultClass, FaultSeverity, FaultStatus, LateCutoff } from '../../domain/faults.js';

interface FaultRow {
  seq: number;
  id: string;
  customer: string;
  device: string | null;
  plan: string | null;
  class: FaultClass;
  severity: FaultSeverity;
  title: string;
  description: string;
  status: FaultStatus;
  source: string;
  reported_by: string;
  reported_at: string;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  fix_release: string | null;
  fix_available_at: string | null;
  resolved_by: string | null;
  resolved_at: string | null;
  resolution: string | null;
  closed_at: string | null;
}

const toFault = (row: FaultRow): Fault => ({
  id: row.id,
  seq: Number(row.seq),
  customer: row.customer,
  device: row.device,
  plan: row.plan,
  class: row.class,
  severity: row.severity,
  title: row.title,
  description: row.description,
  status: row.status,
  source: row.source,
  reportedBy: row.reported_by,
  reportedAt: toDate(row.reported_at),
  acknowledgedBy: row.acknowledged_by,
  acknowledgedAt: toDateOrNull(row.acknowledged_at),
  fixRelease: row.fix_release,
  fixAvailableAt: toDateOrNull(row.fix_available_at),
  resolvedBy: row.resolved_by,
  resolvedAt: toDateOrNull(row.resolved_at),
  resolution: row.resolution,
  closedAt: toDateOrNull(row.closed_at),
});

export type NewFault = Pick<
  Fault,
  'customer' | 'device' | 'plan' | 'class' | 'severity' | 'title' | 'description' | 'source' | 'reportedBy' | 'reportedAt'
>;

/** What a lifecycle step writes beside the status; only these columns. */
export interface FaultChanges {
  acknowledgedBy?: string;
  acknowledgedAt?: Date;
  fixRelease?: string | null;
  fixAvailableAt?: Date;
  resolvedBy?: string;
  resolvedAt?: Date;
  resolution?: string | null;
  closedAt?: Date;
}

const columns: Record<keyof FaultChanges, string> = {
  acknowledgedBy: 'acknowledged_by',
  acknowledgedAt: 'acknowledged_at',
  fixRelease: 'fix_release',
  fixAvailableAt: 'fix_available_at',
  resolvedBy: 'resolved_by',
  resolvedAt: 'resolved_at',
  resolution: 'resolution',
  closedAt: 'closed_at',
};

/** One class and status of unresolved faults (unresolvedSummary). */
export interface UnresolvedFaults {
  class: FaultClass;
  status: FaultStatus;
  count: number;
  acknowledgeLate: number;
  resolveLate: number;
}

/** A question staff asked the customer on a fault: the fault's clocks pause until it is answered. */
export interface FaultQuestion {
  id: string;
  fault: string;
  text: string;
  askedBy: string;
  askedAt: Date;
  answer: string | null;
  answeredBy: string | null;
  answeredAt: Date | null;
}
interface QuestionRow {
  id: string;
  fault: string;
  text: string;
  asked_by: string;
  asked_at: string;
  answer: string | null;
  answered_by: string | null;
  answered_at: string | null;
}
const toQuestion = (row: QuestionRow): FaultQuestion => ({
  id: row.id,
  fault: row.fault,
  text: row.text,
  askedBy: row.asked_by,
  askedAt: toDate(row.asked_at),
  answer: row.answer,
  answeredBy: row.answered_by,
  answeredAt: toDateOrNull(row.answered_at),
});

const firstSeq = 1001;
// Two processes may take the same next number; the loser takes the one after.
const insertAttempts = 20;

export class FaultRepository {
  constructor(private readonly sql: SqlSession) {}

  async get(id: string): Promise<Fault | undefined> {
    const row = await this.sql.get<FaultRow>('SELECT * FROM faults WHERE id = ?', [id]);
    return row && toFault(row);
  }

  /** The fault, its row locked until the transaction ends (PostgreSQL). */
  async getForUpdate(id: string): Promise<Fault | undefined> {
    const row = await this.sql.get<FaultRow>(`SELECT * FROM faults WHERE id = ?${this.sql.forUpdate}`, [id]);
    return row && toFault(row);
  }

  /**
   * Newest first. `unclosed` leaves closed faults out; `reportedFrom` (inclusive) and
   * `reportedBefore` bound the report time; no limit unless given.
   */
  async list(
    filter: {
      customer?: string | null;
      status?: string;
      class?: string;
      unclosed?: boolean;
      reportedFrom?: Date;
      reportedBefore?: Date;
      limit?: number;
    } = {},
  ): Promise<Fault[]> {
    const equal = whereClause({ customer: filter.customer ?? undefined, status: filter.status, class: filter.class });
    const clauses = equal.where ? [equal.where.slice('WHERE '.length)] : [];
    const params: SqlValue[] = [...equal.values];
    if (filter.unclosed) clauses.push("status <> 'closed'");
    // ISO-8601 text in UTC sorts as time does.
    if (filter.reportedFrom) {
      clauses.push('reported_at >= ?');
      params.push(filter.reportedFrom.toISOString());
    }
    if (filter.reportedBefore) {
      clauses.push('reported_at < ?');
      params.push(filter.reportedBefore.toISOString());
    }
    let limit = '';
    if (filter.limit !== undefined) {
      limit = 'LIMIT ?';
      params.push(filter.limit);
    }
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    return (await this.sql.all<FaultRow>(`SELECT * FROM faults ${where} ORDER BY seq DESC ${limit}`, params)).map(toFault);
  }

  /** How many faults are not yet resolved or closed (the fleet overview). */
  async countUnresolved(): Promise<number> {
    const row = await this.sql.get<{ n: number | string }>("SELECT COUNT(*) AS n FROM faults WHERE status IN ('open', 'acknowledged')");
    return Number(row?.n ?? 0);
  }

  /**
   * Faults not yet resolved, by class and status, and how many of them are late on a clock
   * with its step still not taken (`late`: per class and severity, the report time before
   * which they are, domain/faults.ts lateCutoffs). One aggregate read, for GET /metrics.
   */
  async unresolvedSummary(late: { acknowledge: readonly LateCutoff[]; resolve: readonly LateCutoff[] }): Promise<UnresolvedFaults[]> {
    const params: SqlValue[] = [];
    const before = (cutoffs: readonly LateCutoff[]) => {
      if (cutoffs.length === 0) return '1 = 0';
      for (const cutoff of cutoffs) params.push(cutoff.class, cutoff.severity, cutoff.reportedBefore.toISOString());
      return cutoffs.map(() => '(class = ? AND severity = ? AND reported_at < ?)').join(' OR ');
    };
    const acknowledgeLate = before(late.acknowledge);
    const resolveLate = before(late.resolve);
    const rows = await this.sql.all<{
      class: FaultClass;
      status: FaultStatus;
      n: number;
      acknowledge_late: number | null;
      resolve_late: number | null;
    }>(
      `SELECT class, status, COUNT(*) AS n,
         SUM(CASE WHEN acknowledged_at IS NULL AND resolved_at IS NULL AND (${acknowledgeLate}) THEN 1 ELSE 0 END) AS acknowledge_late,
         SUM(CASE WHEN resolved_at IS NULL AND (${resolveLate}) THEN 1 ELSE 0 END) AS resolve_late
       FROM faults WHERE status IN ('open', 'acknowledged', 'fix_available') GROUP BY class, status`,
      params,
    );
    return rows.map((row) => ({
      class: row.class,
      status: row.status,
      count: Number(row.n),
      acknowledgeLate: Number(row.acknowledge_late ?? 0),
      resolveLate: Number(row.resolve_late ?? 0),
    }));
  }

  /**
   * Records a new open fault under the next free number. Null when the fault is an agent's
   * and that device already has one for that plan (one fault per failed update).
   */
  async insert(fault: NewFault): Promise<Fault | null> {
    for (let attempt = 0; attempt < insertAttempts; attempt++) {
      try {
        // A savepoint: on PostgreSQL a refused INSERT would otherwise abort the whole transaction.
        return await this.sql.transaction(async (tx) => {
          const next =
            Number((await tx.get<{ seq: number | string }>(`SELECT COALESCE(MAX(seq), ${firstSeq - 1}) AS seq FROM faults`))!.seq) + 1;
          const id = `F-${next}`;
          await tx.run(
            `INSERT INTO faults (seq, id, customer, device, plan, class, severity, title, description, status, source, reported_by, reported_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`,
            [
              next,
              id,
              fault.customer,
              fault.device,
              fault.plan,
              fault.class,
              fault.severity,
              fault.title,
              fault.description,
              fault.source,
              fault.reportedBy,
              fault.reportedAt.toISOString(),
            ],
          );
          return toFault((await tx.get<FaultRow>('SELECT * FROM faults WHERE id = ?', [id]))!);
        });
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        if (fault.source === 'agent' && fault.device && fault.plan && (await this.agentFaultExists(fault.device, fault.plan))) return null;
      }
    }
    throw new Error(`no free fault number after ${insertAttempts} attempts`);
  }

  async agentFaultExists(device: string, plan: string): Promise<boolean> {
    return (
      (await this.sql.get("SELECT 1 AS found FROM faults WHERE device = ? AND plan = ? AND source = 'agent'", [device, plan])) !== undefined
    );
  }

  /**
   * Moves the fault from `from` to `to` with the step's columns; false when it was no longer
   * `from` (another request took the step first), so the caller audits only its own step.
   */
  async transition(id: string, from: FaultStatus, to: FaultStatus, changes: FaultChanges): Promise<boolean> {
    const sets = ['status = ?'];
    const params: SqlValue[] = [to];
    for (const [key, value] of Object.entries(changes) as [keyof FaultChanges, string | Date | null | undefined][]) {
      if (value === undefined) continue;
      sets.push(`${columns[key]} = ?`);
      params.push(value instanceof Date ? value.toISOString() : value);
    }
    params.push(id, from);
    const { changes: changed } = await this.sql.run(`UPDATE faults SET ${sets.join(', ')} WHERE id = ? AND status = ?`, params);
    return changed === 1;
  }

  async askQuestion(question: Pick<FaultQuestion, 'id' | 'fault' | 'text' | 'askedBy' | 'askedAt'>): Promise<void> {
    await this.sql.run('INSERT INTO fault_questions (id, fault, text, asked_by, asked_at) VALUES (?, ?, ?, ?, ?)', [
      question.id,
      question.fault,
      question.text,
      question.askedBy,
      question.askedAt.toISOString(),
    ]);
  }

  async question(id: string): Promise<FaultQuestion | undefined> {
    const row = await this.sql.get<QuestionRow>('SELECT * FROM fault_questions WHERE id = ?', [id]);
    return row && toQuestion(row);
  }

  /** Answers the question once: false when it was answered meanwhile (by another request). */
  async answerQuestion(id: string, answer: { text: string; by: string; at: Date }): Promise<boolean> {
    const { changes } = await this.sql.run(
      'UPDATE fault_questions SET answer = ?, answered_by = ?, answered_at = ? WHERE id = ? AND answered_at IS NULL',
      [answer.text, answer.by, answer.at.toISOString(), id],
    );
    return changes === 1;
  }

  /** The questions asked on these faults, oldest first. */
  async questionsOf(faults: readonly string[]): Promise<FaultQuestion[]> {
    if (faults.length === 0) return [];
    const rows = await this.sql.all<QuestionRow>(
      `SELECT * FROM fault_questions WHERE fault IN (${faults.map(() => '?').join(', ')}) ORDER BY asked_at, id`,
      [...faults],
    );
    return rows.map(toQuestion);
  }
}
