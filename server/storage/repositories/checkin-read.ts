// The check-in's one statement (services/checkin.ts): the device's live plans, each with its
// release, the waves before the device's own and the install slots taken, and whether one of
// its support sessions has consent. Read by device id (DDI, tests) or by the bearer token, so
// that a steady-state check-in is a single round trip: the token lookup is joined in front,
// and the row that names the token's holder also carries the device's version and state.
import type { SqlSession } from '../sql.js';
import { createManifestMemo } from '../manifest-memo.js';
import { hashToken } from '../../auth/tokens.js';
import type { Principal } from '../../auth/principal.js';
import { toDateOrNull, type CheckinRead, type Plan, type PlanWaveStatus } from './records.js';
import { tokenHolderColumns, tokenHolderJoins, principalOf, type TokenHolderRow } from './users.js';

// Every check-in of this process shares the manifests it decoded (storage/manifest-memo.ts).
const manifests = createManifestMemo();
/** Canonical text of the manifests the check-in read handed out, for the signer's canonicalize. */
export const knownManifestTexts: ReadonlyMap<object, string> = manifests.known;

// Every plan of the device gives rows, and a device without any one row (its support-session
// flag); the columns of a plan that is not live are null. (Joined plainly, not as a nested
// join: SQLite materializes a nested join, reading every live plan's devices.)
interface CheckinRow {
  consented_sessions: number | string;
  id: string | null;
  status: string;
  windows: string;
  waves: string;
  max_concurrent: number | null;
  expected_install_seconds: number;
  confirmed_window: number | null;
  confirmed_at: string | null;
  device_wave: number;
  device_state: string | null;
  release_id: string | null;
  release_version: string;
  release_manifest: string;
  release_yanked_at: string | null;
  active_installs: number | string;
  earlier_wave: number | null;
  earlier_status: string | null;
  earlier_finished_at: string | null;
}

const placeholders = (count: number) => Array.from({ length: count }, () => '?').join(', ');

type Head = 'device' | 'token';
const texts = new Map<string, string>();

/**
 * The statement's text, `d` the device. By token, the head is the token row with its holder,
 * user or device (a user's token gives one row with no device: it is refused as a device).
 * Built once per shape: the text is the key of the prepared statement (postgres/session.ts).
 */
function checkinSql(head: Head, installing: number, live: number): string {
  const key = `${head} ${installing} ${live}`;
  let text = texts.get(key);
  if (text !== undefined) return text;
  const start =
    head === 'device'
      ? { columns: '', from: 'devices d', where: 'd.id = ?' }
      : { columns: `${tokenHolderColumns},`, from: tokenHolderJoins, where: 't.hash = ? AND t.revoked_at IS NULL' };
  text = `SELECT ${start.columns}
              (SELECT COUNT(*) FROM support_sessions s WHERE s.device = d.id AND s.status = 'consented') AS consented_sessions,
              p.id, p.status, p.windows, p.waves, p.max_concurrent, p.expected_install_seconds, p.confirmed_window, p.confirmed_at,
              pd.wave AS device_wave, pd.state AS device_state,
              r.id AS release_id, r.version AS release_version, r.manifest AS release_manifest, r.yanked_at AS release_yanked_at,
              CASE WHEN p.max_concurrent IS NULL THEN 0 ELSE
                (SELECT COUNT(*) FROM plan_devices other WHERE other.plan = p.id AND other.state IN (${placeholders(installing)}) AND other.device <> pd.device)
              END AS active_installs,
              pw.wave AS earlier_wave, pw.status AS earlier_status, pw.finished_at AS earlier_finished_at
       FROM ${start.from}
       LEFT JOIN plan_devices pd ON pd.device = d.id AND pd.wave IS NOT NULL
       LEFT JOIN plans p ON p.id = pd.plan AND p.kind = 'upgrade' AND p.status IN (${placeholders(live)})
       LEFT JOIN releases r ON r.id = p.release
       LEFT JOIN plan_waves pw ON pw.plan = p.id AND pw.wave < pd.wave
       WHERE ${start.where}
       ORDER BY p.confirmed_at DESC, p.id, pw.wave`;
  texts.set(key, text);
  return text;
}

/** The rows, one plan after the other, folded into the read. */
function checkinReadOf(rows: readonly CheckinRow[]): CheckinRead {
  const read: CheckinRead = { assignments: [], consentedSessions: Number(rows[0]?.consented_sessions ?? 0) > 0 };
  for (const row of rows) {
    // The device itself, or one of its plans that is not live: nothing to decide on.
    if (row.id === null || row.release_id === null) continue;
    let current = read.assignments[read.assignments.length - 1];
    if (!current || current.plan.id !== row.id) {
      current = {
        plan: {
          id: row.id,
          status: row.status as Plan['status'],
          windows: JSON.parse(row.windows),
          waves: JSON.parse(row.waves),
          maxConcurrent: row.max_concurrent === null ? null : Number(row.max_concurrent),
          expectedInstallSeconds: Number(row.expected_install_seconds),
          confirmedWindow: row.confirmed_window === null ? null : Number(row.confirmed_window),
          confirmedAt: toDateOrNull(row.confirmed_at),
        },
        deviceWave: Number(row.device_wave),
        deviceState: row.device_state,
        release: {
          id: row.release_id,
          version: row.release_version,
          yanked: row.release_yanked_at !== null,
          manifest: manifests.manifestOf({ id: row.release_id, manifest: row.release_manifest }),
        },
        earlierWaves: [],
        activeInstalls: Number(row.active_installs),
      };
      read.assignments.push(current);
    }
    if (row.earlier_wave !== null) {
      current.earlierWaves.push({
        plan: row.id,
        wave: Number(row.earlier_wave),
        status: row.earlier_status as PlanWaveStatus,
        openedAt: null,
        finishedAt: toDateOrNull(row.earlier_finished_at),
      });
    }
  }
  return read;
}

/** What the check-in reads of one device, by its id. */
export async function checkinReadOfDevice(
  sql: SqlSession,
  device: string,
  statuses: ReadonlySet<string>,
  installingStates: ReadonlySet<string>,
): Promise<CheckinRead> {
  const rows = await sql.all<CheckinRow>(checkinSql('device', installingStates.size, statuses.size), [
    ...installingStates,
    ...statuses,
    device,
  ]);
  return checkinReadOf(rows);
}

/**
 * Who holds this unrevoked token and, for a device, its check-in read: null for an unknown
 * or revoked token, and a user's token comes back with an empty read.
 */
export async function checkinReadOfToken(
  sql: SqlSession,
  token: string,
  statuses: ReadonlySet<string>,
  installingStates: ReadonlySet<string>,
): Promise<{ principal: Principal; read: CheckinRead } | null> {
  const rows = await sql.all<TokenHolderRow & CheckinRow>(checkinSql('token', installingStates.size, statuses.size), [
    ...installingStates,
    ...statuses,
    hashToken(token),
  ]);
  if (rows.length === 0) return null;
  return { principal: principalOf(rows[0]), read: checkinReadOf(rows) };
}
