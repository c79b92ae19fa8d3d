// Devices, their tokens and the events they report.
import { isUniqueViolation, whereClause, type SqlSession } from '../sql.js';
import { SluiceError } from '../../errors.js';
import { generateToken, hashToken } from '../../auth/tokens.js';
import { toDate, toDateOrNull, type Device } from './records.js';

interface DeviceRow {
  id: string; customer: string; product: string; hardware: string; version: string;
  state: string | null; last_seen_at: string | null; created_at: string;
}

const toDevice = (row: DeviceRow): Device => ({
  id: row.id, customer: row.customer, product: row.product, hardware: row.hardware, version: row.version,
  state: row.state, lastSeenAt: toDateOrNull(row.last_seen_at), createdAt: toDate(row.created_at),
});

export type NewDevice = Pick<Device, 'id' | 'customer' | 'product' | 'hardware' | 'version'>;

export class DeviceRepository {
  constructor(private readonly sql: SqlSession) {}

  /** The device and its token (the plain token is returned once, only its hash is kept). */
  async create(input: NewDevice, now: Date): Promise<{ id: string; token: string }> {
    const token = generateToken('d');
    try {
      await this.sql.transaction(async (tx) => {
        await tx.run('INSERT INTO devices (id, customer, product, hardware, version, created_at) VALUES (?, ?, ?, ?, ?, ?)',
          [input.id, input.customer, input.product, input.hardware, input.version, now.toISOString()]);
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
}
