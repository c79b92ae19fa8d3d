// hawkBit DDI state: actions (one live action per plan and device), gateway tokens (hashes
// only), and the configuration data controllers send. Action steps are conditional updates
// on the status the caller saw, so concurrent feedback moves an action once.
import { whereClause, type SqlSession } from '../sql.js';
import { toDate, toDateOrNull, type DdiAction } from './records.js';
import type { ActionStatus } from '../../domain/ddi.js';

interface ActionRow {
  id: number | string;
  plan: string;
  device: string;
  status: ActionStatus;
  last_update: string | null;
  created_at: string;
  closed_at: string | null;
}

const toAction = (row: ActionRow): DdiAction => ({
  id: Number(row.id),
  plan: row.plan,
  device: row.device,
  status: row.status,
  lastUpdate: row.last_update === 'forced' || row.last_update === 'skip' ? row.last_update : null,
  createdAt: toDate(row.created_at),
  closedAt: toDateOrNull(row.closed_at),
});

interface GatewayTokenRow {
  id: string;
  tenant: string;
  customer: string | null;
  created_by: string;
  created_at: string;
  revoked_at: string | null;
}

/** A gateway token as staff see it: never its secret or hash. `customer` is null only for tokens made before scoping. */
export interface GatewayTokenRecord {
  id: string;
  tenant: string;
  customer: string | null;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
}

const toGatewayToken = (row: GatewayTokenRow): GatewayTokenRecord => ({
  id: row.id,
  tenant: row.tenant,
  customer: row.customer,
  createdBy: row.created_by,
  createdAt: toDate(row.created_at),
  revokedAt: toDateOrNull(row.revoked_at),
});

export class DdiRepository {
  constructor(private readonly sql: SqlSession) {}

  async action(id: number): Promise<DdiAction | undefined> {
    const row = await this.sql.get<ActionRow>('SELECT * FROM ddi_actions WHERE id = ?', [id]);
    return row && toAction(row);
  }

  /** The action, its row locked until the transaction ends (PostgreSQL). */
  async actionForUpdate(id: number): Promise<DdiAction | undefined> {
    const row = await this.sql.get<ActionRow>(`SELECT * FROM ddi_actions WHERE id = ?${this.sql.forUpdate}`, [id]);
    return row && toAction(row);
  }

  /** The device's newest open or canceling action. */
  async liveActionOf(device: string): Promise<DdiAction | undefined> {
    const row = await this.sql.get<ActionRow>(
      "SELECT * FROM ddi_actions WHERE device = ? AND status IN ('open', 'canceling') ORDER BY id DESC LIMIT 1",
      [device],
    );
    return row && toAction(row);
  }

  /**
   * The live action for this plan and device, opened now if there is none. Two processes
   * opening it at once get the same one: the partial unique index keeps one live action per
   * plan and device, and the loser's insert does nothing.
   */
  async openAction(plan: string, device: string, at: Date): Promise<DdiAction> {
    await this.sql.run("INSERT INTO ddi_actions (plan, device, status, created_at) VALUES (?, ?, 'open', ?) ON CONFLICT DO NOTHING", [
      plan,
      device,
      at.toISOString(),
    ]);
    const row = await this.sql.get<ActionRow>(
      "SELECT * FROM ddi_actions WHERE plan = ? AND device = ? AND status IN ('open', 'canceling') ORDER BY id DESC LIMIT 1",
      [plan, device],
    );
    return toAction(row!);
  }

  /** Moves the action from `from` to `to`; false when it was no longer `from`. Terminal steps stamp closed_at. */
  async moveAction(id: number, from: ActionStatus, to: ActionStatus, at: Date): Promise<boolean> {
    const closedAt = to === 'closed' || to === 'canceled' ? at.toISOString() : null;
    const { changes } = await this.sql.run(
      'UPDATE ddi_actions SET status = ?, closed_at = COALESCE(?, closed_at) WHERE id = ? AND status = ?',
      [to, closedAt, id, from],
    );
    return changes === 1;
  }

  async rememberHandling(id: number, update: 'forced' | 'skip'): Promise<void> {
    await this.sql.run('UPDATE ddi_actions SET last_update = ? WHERE id = ?', [update, id]);
  }

  /**
   * The tenant and customer of a live (not revoked) gateway token, by the token's hash. A
   * token made before gateway tokens had a customer (migration 007) is never accepted.
   */
  async gatewayToken(hash: string): Promise<{ tenant: string; customer: string } | undefined> {
    return this.sql.get<{ tenant: string; customer: string }>(
      'SELECT tenant, customer FROM ddi_gateway_tokens WHERE hash = ? AND revoked_at IS NULL AND customer IS NOT NULL',
      [hash],
    );
  }

  async insertGatewayToken(token: {
    id: string;
    hash: string;
    tenant: string;
    customer: string;
    createdBy: string;
    createdAt: Date;
  }): Promise<void> {
    await this.sql.run('INSERT INTO ddi_gateway_tokens (id, hash, tenant, customer, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
      token.id,
      token.hash,
      token.tenant,
      token.customer,
      token.createdBy,
      token.createdAt.toISOString(),
    ]);
  }

  /** Revokes a live token; false when there is none by that id (unknown or already revoked). */
  async revokeGatewayToken(id: string, at: Date): Promise<boolean> {
    const { changes } = await this.sql.run('UPDATE ddi_gateway_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [
      at.toISOString(),
      id,
    ]);
    return changes === 1;
  }

  /**
   * Replaces a live, scoped token's secret under the same id: the old one stops working at
   * once. False when there is no such token (unknown, revoked, or without a customer). Two
   * rotations at once take turns on the row's lock; the later one's secret is the live one.
   */
  async replaceGatewayTokenHash(id: string, hash: string): Promise<boolean> {
    const { changes } = await this.sql.run(
      'UPDATE ddi_gateway_tokens SET hash = ? WHERE id = ? AND revoked_at IS NULL AND customer IS NOT NULL',
      [hash, id],
    );
    return changes === 1;
  }

  async gatewayTokenById(id: string): Promise<GatewayTokenRecord | undefined> {
    const row = await this.sql.get<GatewayTokenRow>(
      'SELECT id, tenant, customer, created_by, created_at, revoked_at FROM ddi_gateway_tokens WHERE id = ?',
      [id],
    );
    return row && toGatewayToken(row);
  }

  /** Every gateway token (never its hash), of one customer when given, oldest first. */
  async gatewayTokens(filter: { customer?: string } = {}): Promise<GatewayTokenRecord[]> {
    const { where, values } = whereClause({ customer: filter.customer });
    const rows = await this.sql.all<GatewayTokenRow>(
      `SELECT id, tenant, customer, created_by, created_at, revoked_at FROM ddi_gateway_tokens ${where} ORDER BY created_at, id`,
      values,
    );
    return rows.map(toGatewayToken);
  }

  async configData(device: string): Promise<Record<string, string> | undefined> {
    return this.readConfigData(device, '');
  }

  /** The device's configuration data, its row locked for the merge that follows (PostgreSQL). */
  async configDataForUpdate(device: string): Promise<Record<string, string> | undefined> {
    return this.readConfigData(device, this.sql.forUpdate);
  }

  private async readConfigData(device: string, lock: string): Promise<Record<string, string> | undefined> {
    const row = await this.sql.get<{ data: string }>(`SELECT data FROM ddi_config_data WHERE device = ?${lock}`, [device]);
    return row && (JSON.parse(row.data) as Record<string, string>);
  }

  async saveConfigData(device: string, data: Record<string, string>, at: Date): Promise<void> {
    await this.sql.run(
      'INSERT INTO ddi_config_data (device, data, updated_at) VALUES (?, ?, ?) ON CONFLICT (device) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at',
      [device, JSON.stringify(data), at.toISOString()],
    );
  }
}
