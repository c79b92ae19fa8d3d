// hawkBit DDI state: actions (one live action per plan and device), gateway tokens (hashes
// only), and the configuration data controllers send. Action steps are conditional updates
// on the status the caller saw, so concurrent feedback moves an action once.
import type { SqlSession } from '../sql.js';
import { toDate, toDateOrNull, type DdiAction } from './records.js';
import type { ActionStatus } from '../../domain/ddi.js';

interface ActionRow { id: number | string; plan: string; device: string; status: ActionStatus; last_update: string | null; created_at: string; closed_at: string | null }

const toAction = (row: ActionRow): DdiAction => ({
  id: Number(row.id), plan: row.plan, device: row.device, status: row.status,
  lastUpdate: row.last_update === 'forced' || row.last_update === 'skip' ? row.last_update : null,
  createdAt: toDate(row.created_at), closedAt: toDateOrNull(row.closed_at),
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
    const row = await this.sql.get<ActionRow>("SELECT * FROM ddi_actions WHERE device = ? AND status IN ('open', 'canceling') ORDER BY id DESC LIMIT 1", [device]);
    return row && toAction(row);
  }

  /**
   * The live action for this plan and device, opened now if there is none. Two processes
   * opening it at once get the same one: the partial unique index keeps one live action per
   * plan and device, and the loser's insert does nothing.
   */
  async openAction(plan: string, device: string, at: Date): Promise<DdiAction> {
    await this.sql.run("INSERT INTO ddi_actions (plan, device, status, created_at) VALUES (?, ?, 'open', ?) ON CONFLICT DO NOTHING", [plan, device, at.toISOString()]);
    const row = await this.sql.get<ActionRow>("SELECT * FROM ddi_actions WHERE plan = ? AND device = ? AND status IN ('open', 'canceling') ORDER BY id DESC LIMIT 1", [plan, device]);
    return toAction(row!);
  }

  /** Moves the action from `from` to `to`; false when it was no longer `from`. Terminal steps stamp closed_at. */
  async moveAction(id: number, from: ActionStatus, to: ActionStatus, at: Date): Promise<boolean> {
    const closedAt = to === 'closed' || to === 'canceled' ? at.toISOString() : null;
    const { changes } = await this.sql.run('UPDATE ddi_actions SET status = ?, closed_at = COALESCE(?, closed_at) WHERE id = ? AND status = ?', [to, closedAt, id, from]);
    return changes === 1;
  }

  async rememberHandling(id: number, update: 'forced' | 'skip'): Promise<void> {
    await this.sql.run('UPDATE ddi_actions SET last_update = ? WHERE id = ?', [update, id]);
  }

  /** The tenant of a live (not revoked) gateway token, by the token's hash. */
  async gatewayTenant(hash: string): Promise<string | undefined> {
    return (await this.sql.get<{ tenant: string }>('SELECT tenant FROM ddi_gateway_tokens WHERE hash = ? AND revoked_at IS NULL', [hash]))?.tenant;
  }

  async insertGatewayToken(token: { id: string; hash: string; tenant: string; createdBy: string; createdAt: Date }): Promise<void> {
    await this.sql.run('INSERT INTO ddi_gateway_tokens (id, hash, tenant, created_by, created_at) VALUES (?, ?, ?, ?, ?)',
      [token.id, token.hash, token.tenant, token.createdBy, token.createdAt.toISOString()]);
  }

  /** Revokes a live token; false when there is none by that id (unknown or already revoked). */
  async revokeGatewayToken(id: string, at: Date): Promise<boolean> {
    const { changes } = await this.sql.run('UPDATE ddi_gateway_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at.toISOString(), id]);
    return changes === 1;
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
    return row && JSON.parse(row.data) as Record<string, string>;
  }

  async saveConfigData(device: string, data: Record<string, string>, at: Date): Promise<void> {
    await this.sql.run('INSERT INTO ddi_config_data (device, data, updated_at) VALUES (?, ?, ?) ON CONFLICT (device) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at',
      [device, JSON.stringify(data), at.toISOString()]);
  }
}
