// Devices, their tokens and the events they report.
import { isUniqueViolation, whereClause, type SqlSession } from '../sql.js';
import { SluiceError } from '../../errors.js';
import { generateToken, hashToken } from '../../auth/tokens.js';
import { toDate, toDateOrNull, type Device, type DeviceEvent } from './records.js';
import { deviceTokens, replaceTokens, revokeTokens } from './token-rows.js';

interface DeviceRow {
  id: string;
  customer: string;
  product: string;
  hardware: string;
  version: string;
  state: string | null;
  last_seen_at: string | null;
  created_at: string;
}

interface DeviceEventRow {
  event_id: string;
  device: string;
  assignment: string | null;
  plan: string | null;
  release: string | null;
  state: string;
  detail: string | null;
  progress: number | null;
  at: string;
  received_at: string;
}

const toDeviceEvent = (row: DeviceEventRow): DeviceEvent => ({
  eventId: row.event_id,
  device: row.device,
  assignment: row.assignment,
  plan: row.plan,
  release: row.release,
  state: row.state,
  detail: row.detail,
  progress: row.progress === null ? null : Number(row.progress),
  at: toDate(row.at),
  receivedAt: toDate(row.received_at),
});

const toDevice = (row: DeviceRow): Device => ({
  id: row.id,
  customer: row.customer,
  product: row.product,
  hardware: row.hardware,
  version: row.version,
  state: row.state,
  lastSeenAt: toDateOrNull(row.last_seen_at),
  createdAt: toDate(row.created_at),
});

export type NewDevice = Pick<Device, 'id' | 'customer' | 'product' | 'hardware' | 'version'>;

export class DeviceRepository {
  constructor(private readonly sql: SqlSession) {}

  /** The device and its token (the plain token is returned once, only its hash is kept). */
  async create(input: NewDevice, now: Date): Promise<{ id: string; token: string }> {
    const token = generateToken('d');
    try {
      await this.sql.transaction(async (tx) => {
        await tx.run('INSERT INTO devices (id, customer, product, hardware, version, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
          input.id,
          input.customer,
          input.product,
          input.hardware,
          input.version,
          now.toISOString(),
        ]);
        await tx.run('INSERT INTO tokens (hash, device_id, created_at) VALUES (?, ?, ?)', [hashToken(token), input.id, now.toISOString()]);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new SluiceError('already_exists', `device "${input.id}" already exists`);
      throw error;
    }
    return { id: input.id, token };
  }

  async get(id: string): Promise<Device | undefined> {
    const row = await this.sql.get<DeviceRow>('SELECT * FROM devices WHERE id = ?', [id]);
    return row && toDevice(row);
  }

  async list(filter: { customer?: string | null; product?: string } = {}): Promise<Device[]> {
    const { where, values } = whereClause({ customer: filter.customer ?? undefined, product: filter.product });
    return (await this.sql.all<DeviceRow>(`SELECT * FROM devices ${where} ORDER BY id`, values)).map(toDevice);
  }

  /** The device's reported events, newest first. */
  async history(device: string, limit = 100): Promise<DeviceEvent[]> {
    const rows = await this.sql.all<DeviceEventRow>(
      `SELECT event_id, device, assignment, plan, release, state, detail, progress, at, received_at
       FROM device_events WHERE device = ? ORDER BY id DESC LIMIT ?`,
      [device, limit],
    );
    return rows.map(toDeviceEvent);
  }

  /** Revokes the device's tokens and issues a new one (shown once); null when there is no such device. */
  rotateToken(id: string, at: Date): Promise<{ token: string; revoked: number } | null> {
    return replaceTokens(this.sql, deviceTokens, id, at);
  }

  /** Revokes every live token of the device; how many there were. */
  revokeTokens(id: string, at: Date): Promise<number> {
    return revokeTokens(this.sql, deviceTokens, id, at);
  }

  // used by plans and check-in

  /** Stores one reported event; false when its eventId was stored before (a resend from the outbox). */
  async recordEvent(event: DeviceEvent): Promise<boolean> {
    const { changes } = await this.sql.run(
      `INSERT INTO device_events (device, event_id, assignment, plan, release, state, detail, progress, at, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`,
      [
        event.device,
        event.eventId,
        event.assignment,
        event.plan,
        event.release,
        event.state,
        event.detail,
        event.progress,
        event.at.toISOString(),
        event.receivedAt.toISOString(),
      ],
    );
    return changes === 1;
  }

  /** A report moves the device's state and presence at once; `version` only on a commit. */
  async applyReport(id: string, report: { state: string; at: Date; version?: string | null }): Promise<void> {
    await this.sql.run('UPDATE devices SET state = ?, last_seen_at = ?, version = COALESCE(?, version) WHERE id = ?', [
      report.state,
      report.at.toISOString(),
      report.version ?? null,
      id,
    ]);
  }

  /** The version the device says it runs (a DDI controller's attributes); false when it already was. */
  async recordVersion(id: string, version: string): Promise<boolean> {
    const { changes } = await this.sql.run('UPDATE devices SET version = ? WHERE id = ? AND version <> ?', [version, id, version]);
    return changes === 1;
  }

  /**
   * Presence noted by check-ins, written together (storage/presence.ts). An observation never
   * moves presence backwards: a report or another process may have stored a later time, and
   * its state is then the newer truth. A null state keeps the stored one.
   */
  async recordPresence(observations: readonly { device: string; at: Date; state: string | null }[]): Promise<void> {
    for (let start = 0; start < observations.length; start += 300) {
      const part = observations.slice(start, start + 300);
      // VALUES columns are column1, column2, column3 in both dialects.
      await this.sql.run(
        `UPDATE devices SET last_seen_at = seen.column2, state = COALESCE(seen.column3, devices.state)
         FROM (VALUES ${part.map(() => '(?, ?, ?)').join(', ')}) AS seen
         WHERE devices.id = seen.column1 AND (devices.last_seen_at IS NULL OR devices.last_seen_at < seen.column2)`,
        part.flatMap((observation) => [observation.device, observation.at.toISOString(), observation.state]),
      );
    }
  }

  /** A plan's stored events: from how many devices, how many commits, and any eventId stored twice. */
  async eventCounts(plan: string): Promise<{ devices: number; committed: number; duplicates: number }> {
    const row = await this.sql.get<{ devices: number | string; committed: number | string | null; duplicates: number | string }>(
      `SELECT COUNT(DISTINCT device) AS devices, SUM(CASE WHEN state = 'committed' THEN 1 ELSE 0 END) AS committed,
              COUNT(*) - COUNT(DISTINCT event_id) AS duplicates
       FROM device_events WHERE plan = ?`,
      [plan],
    );
    return { devices: Number(row?.devices ?? 0), committed: Number(row?.committed ?? 0), duplicates: Number(row?.duplicates ?? 0) };
  }

  /** Many devices and their tokens at once, in one transaction (the benchmarks' fleets): `create` without a round trip each. */
  async createMany(inputs: readonly NewDevice[], now: Date): Promise<{ id: string; token: string }[]> {
    const created = inputs.map((input) => ({ input, token: generateToken('d') }));
    await this.sql.transaction(async (tx) => {
      for (let start = 0; start < created.length; start += 300) {
        const part = created.slice(start, start + 300);
        await tx.run(
          `INSERT INTO devices (id, customer, product, hardware, version, created_at) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
          part.flatMap(({ input }) => [input.id, input.customer, input.product, input.hardware, input.version, now.toISOString()]),
        );
        await tx.run(
          `INSERT INTO tokens (hash, device_id, created_at) VALUES ${part.map(() => '(?, ?, ?)').join(', ')}`,
          part.flatMap(({ input, token }) => [hashToken(token), input.id, now.toISOString()]),
        );
      }
    });
    return created.map(({ input, token }) => ({ id: input.id, token }));
  }

  /** How many events are stored, of one device or with one eventId: what the exactly-once tests count. */
  async eventCount(filter: { device?: string; eventId?: string } = {}): Promise<number> {
    const { where, values } = whereClause({ device: filter.device, event_id: filter.eventId });
    const row = await this.sql.get<{ n: number | string }>(`SELECT COUNT(*) AS n FROM device_events ${where}`, values);
    return Number(row?.n ?? 0);
  }

  // used by the portal

  /** Devices per customer, product and version: how many, how many failed their last update, the last contact. */
  async fleetSummary(): Promise<
    { customer: string; product: string; version: string; devices: number; failing: number; lastSeenAt: Date | null }[]
  > {
    const rows = await this.sql.all<{
      customer: string;
      product: string;
      version: string;
      devices: number | string;
      failing: number | string | null;
      last_seen: string | null;
    }>(
      `SELECT customer, product, version, COUNT(*) AS devices, SUM(CASE WHEN state IN ('failed', 'rolled_back') THEN 1 ELSE 0 END) AS failing,
              MAX(last_seen_at) AS last_seen
       FROM devices GROUP BY customer, product, version ORDER BY customer, product, version`,
    );
    return rows.map((row) => ({
      customer: row.customer,
      product: row.product,
      version: row.version,
      devices: Number(row.devices),
      failing: Number(row.failing ?? 0),
      lastSeenAt: toDateOrNull(row.last_seen),
    }));
  }
}
