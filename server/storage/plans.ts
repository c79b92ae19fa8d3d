// Plan rows and their devices, waves and documents. Plain reads and writes; the rules live in
// server/domain and server/services/plans.ts.
import type { Db } from './database.js';

export interface PlanRow {
  id: string; kind: 'upgrade' | 'commissioning'; customer: string; release: string | null; status: string; paused_from: string | null;
  windows: string; waves: string; seed: string; deadline: string; notes: string; details: string | null;
  max_concurrent: number | null; expected_install_seconds: number; confirmed_window: number | null;
  confirmed_by: string | null; confirmed_at: string | null; maintainer: string | null; counter_comment: string | null;
  document_version: number; overdue_reason: string | null; created_by: string; created_at: string; updated_at: string;
}

export interface PlanDeviceRow { plan: string; device: string; wave: number | null; state: string | null; state_at: string | null; joined_at: string }

export const getPlanRow = (db: Db, id: string) => db.prepare('SELECT * FROM plans WHERE id = ?').get(id) as PlanRow | undefined;

export function listPlanRows(db: Db, filter: { customer?: string | null; status?: string; kind?: string; release?: string }): PlanRow[] {
  const clauses: string[] = [];
  const values: string[] = [];
  for (const [column, value] of Object.entries(filter)) {
    if (value) { clauses.push(`${column} = ?`); values.push(value); }
  }
  const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  return db.prepare(`SELECT * FROM plans ${where} ORDER BY created_at DESC, id`).all(...values) as PlanRow[];
}

export function insertPlan(db: Db, row: PlanRow): void {
  const columns = Object.keys(row);
  db.prepare(`INSERT INTO plans (${columns.join(', ')}) VALUES (${columns.map((column) => `@${column}`).join(', ')})`).run(row);
}

export function updatePlan(db: Db, id: string, changes: Partial<PlanRow>): void {
  const columns = Object.keys(changes);
  if (columns.length === 0) return;
  db.prepare(`UPDATE plans SET ${columns.map((column) => `${column} = @${column}`).join(', ')} WHERE id = @id`).run({ ...changes, id });
}

export function insertPlanDevices(db: Db, plan: string, devices: string[], joinedAt: Date): void {
  const insert = db.prepare('INSERT OR IGNORE INTO plan_devices (plan, device, joined_at) VALUES (?, ?, ?)');
  for (const device of devices) insert.run(plan, device, joinedAt.toISOString());
}

export const planDevices = (db: Db, plan: string) =>
  db.prepare('SELECT * FROM plan_devices WHERE plan = ? ORDER BY device').all(plan) as PlanDeviceRow[];

export function setDeviceWave(db: Db, plan: string, device: string, wave: number): void {
  db.prepare('UPDATE plan_devices SET wave = ? WHERE plan = ? AND device = ?').run(wave, plan, device);
}

export function setPlanDeviceState(db: Db, plan: string, device: string, state: string, at: Date): void {
  db.prepare('UPDATE plan_devices SET state = ?, state_at = ? WHERE plan = ? AND device = ?').run(state, at.toISOString(), plan, device);
}

export interface PlanWaveRow { plan: string; wave: number; status: string; opened_at: string | null; finished_at: string | null }
export const planWaves = (db: Db, plan: string) =>
  db.prepare('SELECT * FROM plan_waves WHERE plan = ? ORDER BY wave').all(plan) as PlanWaveRow[];

export function upsertPlanWave(db: Db, row: PlanWaveRow): void {
  db.prepare(`INSERT INTO plan_waves (plan, wave, status, opened_at, finished_at) VALUES (@plan, @wave, @status, @opened_at, @finished_at)
              ON CONFLICT (plan, wave) DO UPDATE SET status = excluded.status, opened_at = excluded.opened_at, finished_at = excluded.finished_at`).run(row);
}

/** The plans a device belongs to that are still live, newest first. */
export function livePlansOfDevice(db: Db, device: string): (PlanRow & { wave: number | null; device_state: string | null })[] {
  return db.prepare(`SELECT p.*, pd.wave, pd.state AS device_state FROM plan_devices pd JOIN plans p ON p.id = pd.plan
                     WHERE pd.device = ? AND p.kind = 'upgrade' AND p.status IN ('confirmed', 'in_progress', 'paused')
                     ORDER BY p.confirmed_at DESC`).all(device) as (PlanRow & { wave: number | null; device_state: string | null })[];
}

/**
 * How many of the plan's devices other than `except` hold an install slot now. The
 * (plan, state) index makes this a read of those devices only, not of the whole plan: every
 * check-in of a capped plan asks.
 */
export const activeInstallsOfPlan = (db: Db, plan: string, except: string) =>
  (db.prepare("SELECT COUNT(*) AS n FROM plan_devices WHERE plan = ? AND state IN ('installing', 'health_check') AND device <> ?")
    .get(plan, except) as { n: number }).n;

export function insertDocument(db: Db, row: { plan: string; version: number; markdown: string; html: string; created_by: string; created_at: string }): void {
  db.prepare('INSERT INTO plan_documents (plan, version, markdown, html, created_by, created_at) VALUES (@plan, @version, @markdown, @html, @created_by, @created_at)').run(row);
}

export const getDocument = (db: Db, plan: string, version: number) =>
  db.prepare('SELECT * FROM plan_documents WHERE plan = ? AND version = ?').get(plan, version) as { plan: string; version: number; markdown: string; html: string; created_by: string; created_at: string } | undefined;
