// Whether a device may download a release's artifact (DESIGN.md: staff, and devices a live
// plan assigns the release to). Downloading and staging are allowed any time after the plan
// is confirmed, so paused plans keep their downloads too.
import type { Db } from './database.js';

export function deviceMayDownload(db: Db, device: string, release: string): boolean {
  return db.prepare(`SELECT 1 FROM plan_devices pd JOIN plans p ON p.id = pd.plan
                     WHERE pd.device = ? AND p.release = ? AND p.status IN ('confirmed', 'in_progress', 'paused') LIMIT 1`)
    .get(device, release) !== undefined;
}
