// Plans of both kinds (upgrade and commissioning), their devices, waves and frozen documents.
// Rules live in server/domain; what several processes may race on (a transition, a wave
// verdict, the overdue flag) is a conditional update that says whether it changed the row,
// so that its follow-up (the audit row) happens once.
import { whereClause, type SqlSession, type SqlValue } from '../sql.js';
import { checkinReadOfDevice, checkinReadOfToken } from './checkin-read.js';
import type { Principal } from '../../auth/principal.js';
import {
  toDate,
  toDateOrNull,
  type CheckinRead,
  type Plan,
  type PlanDevice,
  type PlanDocument,
  type PlanStateCount,
  type PlanWave,
  type PlanWaveStatus,
} from './records.js';

interface PlanRow {
  id: string;
  kind: Plan['kind'];
  customer: string;
  release: string | null;
  status: string;
  paused_from: string | null;
  windows: string;
  waves: string;
  seed: string;
  deadline: string;
  notes: string;
  details: string | null;
  max_concurrent: number | null;
  expected_install_seconds: number;
  confirmed_window: number | null;
  confirmed_by: string | null;
  confirmed_at: string | null;
  maintainer: string | null;
  counter_comment: string | null;
  document_version: number;
  overdue_reason: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}
interface PlanDeviceRow {
  plan: string;
  device: string;
  wave: number | null;
  state: string | null;
  state_at: string | null;
  joined_at: string;
}
interface PlanWaveRow {
  plan: string;
  wave: number;
  status: string;
  opened_at: string | null;
  finished_at: string | null;
}
interface DocumentRow {
  plan: string;
  version: number;
  markdown: string;
  html: string;
  created_by: string;
  created_at: string;
}

const numberOrNull = (value: number | string | null) => (value === null ? null : Number(value));

const toPlan = (row: PlanRow): Plan => ({
  id: row.id,
  kind: row.kind,
  customer: row.customer,
  release: row.release,
  status: row.status as Plan['status'],
  pausedFrom: row.paused_from as Plan['pausedFrom'],
  windows: JSON.parse(row.windows),
  waves: JSON.parse(row.waves),
  seed: row.seed,
  deadline: toDate(row.deadline),
  notes: row.notes,
  details: row.details === null ? null : JSON.parse(row.details),
  maxConcurrent: numberOrNull(row.max_concurrent),
  expectedInstallSeconds: Number(row.expected_install_seconds),
  confirmedWindow: numberOrNull(row.confirmed_window),
  confirmedBy: row.confirmed_by,
  confirmedAt: toDateOrNull(row.confirmed_at),
  maintainer: row.maintainer === null ? null : JSON.parse(row.maintainer),
  counterComment: row.counter_comment,
  documentVersion: Number(row.document_version),
  overdueReason: row.overdue_reason as Plan['overdueReason'],
  createdBy: row.created_by,
  createdAt: toDate(row.created_at),
  updatedAt: toDate(row.updated_at),
});

const toPlanDevice = (row: PlanDeviceRow): PlanDevice => ({
  plan: row.plan,
  device: row.device,
  wave: numberOrNull(row.wave),
  state: row.state,
  stateAt: toDateOrNull(row.state_at),
  joinedAt: toDate(row.joined_at),
});

const toPlanWave = (row: PlanWaveRow): PlanWave => ({
  plan: row.plan,
  wave: Number(row.wave),
  status: row.status as PlanWaveStatus,
  openedAt: toDateOrNull(row.opened_at),
  finishedAt: toDateOrNull(row.finished_at),
});

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
const iso = (value: Date | null | undefined) => (value ? value.toISOString() : null);

/** What a lifecycle step may change besides the status. */
export type PlanChanges = Partial<
  Pick<
    Plan,
    'windows' | 'pausedFrom' | 'documentVersion' | 'confirmedWindow' | 'confirmedBy' | 'confirmedAt' | 'maintainer' | 'counterComment'
  >
>;

function changeColumns(changes: PlanChanges): [string, SqlValue][] {
  const columns: [string, SqlValue][] = [];
  if (changes.windows !== undefined) columns.push(['windows', json(changes.windows)]);
  if (changes.pausedFrom !== undefined) columns.push(['paused_from', changes.pausedFrom]);
  if (changes.documentVersion !== undefined) columns.push(['document_version', changes.documentVersion]);
  if (changes.confirmedWindow !== undefined) columns.push(['confirmed_window', changes.confirmedWindow]);
  if (changes.confirmedBy !== undefined) columns.push(['confirmed_by', changes.confirmedBy]);
  if (changes.confirmedAt !== undefined) columns.push(['confirmed_at', iso(changes.confirmedAt)]);
  if (changes.maintainer !== undefined) columns.push(['maintainer', json(changes.maintainer)]);
  if (changes.counterComment !== undefined) columns.push(['counter_comment', changes.counterComment]);
  return columns;
}

const placeholders = (count: number) => Array.from({ length: count }, () => '?').join(', ');

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

// Statements stay well under either dialect's limit on bound values.
const rowsPerStatement = 300;

export class PlanRepository {
  constructor(private readonly sql: SqlSession) {}

  async insert(plan: Plan): Promise<void> {
    await this.sql.run(
      `INSERT INTO plans (id, kind, customer, release, status, paused_from, windows, waves, seed, deadline, notes, details,
         max_concurrent, expected_install_seconds, confirmed_window, confirmed_by, confirmed_at, maintainer, counter_comment,
         document_version, overdue_reason, created_by, created_at, updated_at)
       VALUES (${placeholders(24)})`,
      [
        plan.id,
        plan.kind,
        plan.customer,
        plan.release,
        plan.status,
        plan.pausedFrom,
        json(plan.windows),
        json(plan.waves),
        plan.seed,
        plan.deadline.toISOString(),
        plan.notes,
        json(plan.details),
        plan.maxConcurrent,
        plan.expectedInstallSeconds,
        plan.confirmedWindow,
        plan.confirmedBy,
        iso(plan.confirmedAt),
        json(plan.maintainer),
        plan.counterComment,
        plan.documentVersion,
        plan.overdueReason,
        plan.createdBy,
        plan.createdAt.toISOString(),
        plan.updatedAt.toISOString(),
      ],
    );
  }

  async get(id: string): Promise<Plan | undefined> {
    const row = await this.sql.get<PlanRow>('SELECT * FROM plans WHERE id = ?', [id]);
    return row && toPlan(row);
  }

  /** The plan, its row locked until the transaction ends: for a change decided on what was read. */
  async getForUpdate(id: string): Promise<Plan | undefined> {
    const row = await this.sql.get<PlanRow>(`SELECT * FROM plans WHERE id = ?${this.sql.forUpdate}`, [id]);
    return row && toPlan(row);
  }

  /** Newest first. */
  async list(filter: { customer?: string | null; status?: string; kind?: string; release?: string } = {}): Promise<Plan[]> {
    const { where, values } = whereClause({
      customer: filter.customer ?? undefined,
      status: filter.status,
      kind: filter.kind,
      release: filter.release,
    });
    return (await this.sql.all<PlanRow>(`SELECT * FROM plans ${where} ORDER BY created_at DESC, id`, values)).map(toPlan);
  }

  /** How many plans there are of each kind and status: one aggregate read, for GET /metrics. */
  async countByStatus(): Promise<{ kind: Plan['kind']; status: Plan['status']; count: number }[]> {
    const rows = await this.sql.all<{ kind: Plan['kind']; status: Plan['status']; n: number }>(
      'SELECT kind, status, COUNT(*) AS n FROM plans GROUP BY kind, status',
    );
    return rows.map((row) => ({ kind: row.kind, status: row.status, count: Number(row.n) }));
  }

  /**
   * Moves the plan from `from` to `to` with `changes`, only if it still is `from`: false when
   * another request (or process) moved it first, so the caller audits a step it really took.
   */
  async transition(id: string, from: Plan['status'], to: Plan['status'], changes: PlanChanges, at: Date): Promise<boolean> {
    const columns = changeColumns(changes);
    const { changes: changed } = await this.sql.run(
      `UPDATE plans SET status = ?, updated_at = ?${columns.map(([column]) => `, ${column} = ?`).join('')} WHERE id = ? AND status = ?`,
      [to, at.toISOString(), ...columns.map(([, value]) => value), id, from],
    );
    return changed === 1;
  }

  /** Records why the plan is overdue; false when that reason was already recorded. */
  async flagOverdue(id: string, reason: NonNullable<Plan['overdueReason']>): Promise<boolean> {
    const { changes } = await this.sql.run(
      'UPDATE plans SET overdue_reason = ? WHERE id = ? AND (overdue_reason IS NULL OR overdue_reason <> ?)',
      [reason, id, reason],
    );
    return changes === 1;
  }

  /** Adds devices (not yet in a wave); devices already in the plan stay as they are. */
  async addDevices(plan: string, devices: readonly string[], joinedAt: Date): Promise<void> {
    for (const part of chunks([...new Set(devices)], rowsPerStatement)) {
      await this.sql.run(
        `INSERT INTO plan_devices (plan, device, joined_at) VALUES ${part.map(() => '(?, ?, ?)').join(', ')} ON CONFLICT (plan, device) DO NOTHING`,
        part.flatMap((device) => [plan, device, joinedAt.toISOString()]),
      );
    }
  }

  /** Adds one device straight into `wave`; false when it already was in the plan (it keeps its wave). */
  async joinLate(plan: string, device: string, wave: number, joinedAt: Date): Promise<boolean> {
    const { changes } = await this.sql.run(
      'INSERT INTO plan_devices (plan, device, wave, joined_at) VALUES (?, ?, ?, ?) ON CONFLICT (plan, device) DO NOTHING',
      [plan, device, wave, joinedAt.toISOString()],
    );
    return changes === 1;
  }

  async devices(plan: string): Promise<PlanDevice[]> {
    return (await this.sql.all<PlanDeviceRow>('SELECT * FROM plan_devices WHERE plan = ? ORDER BY device', [plan])).map(toPlanDevice);
  }

  /**
   * The plan if `device` belongs to it, with the version its release installs and whether that
   * release was yanked; `lock` holds
   * the plan's row until the transaction ends, so that reports judged against the plan's
   * progress (wave verdicts, completion) are judged one after the other.
   */
  async membership(
    plan: string,
    device: string,
    options: { lock?: boolean } = {},
  ): Promise<{ plan: Plan; releaseVersion: string | null; releaseYanked: boolean } | undefined> {
    const row = await this.sql.get<PlanRow & { release_version: string | null; release_yanked_at: string | null }>(
      `SELECT p.*, (SELECT r.version FROM releases r WHERE r.id = p.release) AS release_version,
              (SELECT r.yanked_at FROM releases r WHERE r.id = p.release) AS release_yanked_at
       FROM plans p JOIN plan_devices pd ON pd.plan = p.id WHERE p.id = ? AND pd.device = ?${options.lock ? this.sql.forUpdate : ''}`,
      [plan, device],
    );
    return row && { plan: toPlan(row), releaseVersion: row.release_version, releaseYanked: row.release_yanked_at !== null };
  }

  /** Puts every device in its drawn wave and records the waves: wave 0 open, the others pending. */
  async drawWaves(plan: string, waves: readonly (readonly string[])[], at: Date): Promise<void> {
    for (const [wave, members] of waves.entries()) {
      for (const part of chunks(members, rowsPerStatement)) {
        await this.sql.run(`UPDATE plan_devices SET wave = ? WHERE plan = ? AND device IN (${placeholders(part.length)})`, [
          wave,
          plan,
          ...part,
        ]);
      }
    }
    if (waves.length === 0) return;
    await this.sql.run(
      `INSERT INTO plan_waves (plan, wave, status, opened_at, finished_at) VALUES ${waves.map(() => '(?, ?, ?, ?, ?)').join(', ')}
       ON CONFLICT (plan, wave) DO UPDATE SET status = excluded.status, opened_at = excluded.opened_at, finished_at = excluded.finished_at`,
      waves.flatMap((_, wave) => [plan, wave, wave === 0 ? 'open' : 'pending', wave === 0 ? at.toISOString() : null, null]),
    );
  }

  async waves(plan: string): Promise<PlanWave[]> {
    return (await this.sql.all<PlanWaveRow>('SELECT * FROM plan_waves WHERE plan = ? ORDER BY wave', [plan])).map(toPlanWave);
  }

  /** Records a wave's verdict; false when it already had one (the verdict is reached once). */
  async finishWave(plan: string, wave: number, verdict: 'succeeded' | 'failed', at: Date): Promise<boolean> {
    const { changes } = await this.sql.run(
      "UPDATE plan_waves SET status = ?, finished_at = ? WHERE plan = ? AND wave = ? AND status NOT IN ('succeeded', 'failed')",
      [verdict, at.toISOString(), plan, wave],
    );
    return changes === 1;
  }

  async setDeviceState(plan: string, device: string, state: string, at: Date): Promise<void> {
    await this.sql.run('UPDATE plan_devices SET state = ?, state_at = ? WHERE plan = ? AND device = ?', [
      state,
      at.toISOString(),
      plan,
      device,
    ]);
  }

  /** What the device downloaded for the plan's release against the artifact's size (docs/delta-updates.md). */
  async setDelivery(plan: string, device: string, delivery: { method: string; bytesDownloaded: number; bytesFull: number }): Promise<void> {
    await this.sql.run('UPDATE plan_devices SET delivery_method = ?, bytes_downloaded = ?, bytes_full = ? WHERE plan = ? AND device = ?', [
      delivery.method,
      delivery.bytesDownloaded,
      delivery.bytesFull,
      plan,
      device,
    ]);
  }

  /** The plan's download totals over the devices that reported one, by delivery method. */
  async deliveryTotals(plan: string): Promise<{ method: string; devices: number; bytesDownloaded: number; bytesFull: number }[]> {
    const rows = await this.sql.all<{ method: string; devices: number | string; downloaded: number | string; full: number | string }>(
      `SELECT delivery_method AS method, COUNT(*) AS devices, SUM(bytes_downloaded) AS downloaded, SUM(bytes_full) AS "full"
       FROM plan_devices WHERE plan = ? AND delivery_method IS NOT NULL GROUP BY delivery_method`,
      [plan],
    );
    return rows.map((row) => ({
      method: row.method,
      devices: Number(row.devices),
      bytesDownloaded: Number(row.downloaded),
      bytesFull: Number(row.full),
    }));
  }

  /** The plan's devices counted by wave and reported state: its progress without reading every device. */
  async stateCounts(plan: string): Promise<PlanStateCount[]> {
    const rows = await this.sql.all<{ wave: number | null; state: string | null; devices: number | string }>(
      'SELECT wave, state, COUNT(*) AS devices FROM plan_devices WHERE plan = ? GROUP BY wave, state',
      [plan],
    );
    return rows.map((row) => ({ wave: numberOrNull(row.wave), state: row.state, devices: Number(row.devices) }));
  }

  /**
   * The check-in's one read (checkin-read.ts): the device's plans in `statuses` (newest
   * confirmation first), each with its release, the waves before the device's own and, for a
   * plan with a cap, how many other devices hold an install slot (`installingStates`); and
   * whether a support session of the device has consent, so that only then the check-in asks
   * what diagnostics to collect. One statement.
   */
  async checkinRead(device: string, statuses: ReadonlySet<string>, installingStates: ReadonlySet<string>): Promise<CheckinRead> {
    return checkinReadOfDevice(this.sql, device, statuses, installingStates);
  }

  /**
   * The same read by the device's bearer token, with the token's holder in the same statement:
   * a steady-state check-in is one round trip. Null for an unknown or revoked token; a user's
   * token gives its principal and an empty read.
   */
  async checkinReadByToken(
    token: string,
    statuses: ReadonlySet<string>,
    installingStates: ReadonlySet<string>,
  ): Promise<{ principal: Principal; read: CheckinRead } | null> {
    return checkinReadOfToken(this.sql, token, statuses, installingStates);
  }

  /** The customer's upgrade plans of a product's releases in `statuses`: the ones a new device of it may join. */
  async ofCustomerProduct(customer: string, product: string, statuses: ReadonlySet<string>): Promise<Plan[]> {
    const wanted = [...statuses];
    const rows = await this.sql.all<PlanRow>(
      `SELECT p.* FROM plans p JOIN releases r ON r.id = p.release
       WHERE p.customer = ? AND r.product = ? AND p.kind = 'upgrade' AND p.status IN (${placeholders(wanted.length)}) ORDER BY p.id`,
      [customer, product, ...wanted],
    );
    return rows.map(toPlan);
  }

  async insertDocument(document: PlanDocument): Promise<void> {
    await this.sql.run('INSERT INTO plan_documents (plan, version, markdown, html, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
      document.plan,
      document.version,
      document.markdown,
      document.html,
      document.createdBy,
      document.createdAt.toISOString(),
    ]);
  }

  async document(plan: string, version: number): Promise<PlanDocument | undefined> {
    const row = await this.sql.get<DocumentRow>('SELECT * FROM plan_documents WHERE plan = ? AND version = ?', [plan, version]);
    return (
      row && {
        plan: row.plan,
        version: Number(row.version),
        markdown: row.markdown,
        html: row.html,
        createdBy: row.created_by,
        createdAt: toDate(row.created_at),
      }
    );
  }
}
