// Fills a data directory directly through the storage layer: a product, a customer and N
// devices with tokens (100,000 through the API would measure the API, not the check-in).
// Returns every device's token, so that a load run can spread over the whole fleet.
import { openDatabase } from '../server/storage/database.js';
import { hashToken } from '../server/auth/tokens.js';

export function seedDevices(databasePath: string, count: number): string[] {
  const db = openDatabase(databasePath);
  const now = new Date().toISOString();
  db.prepare("INSERT OR IGNORE INTO products (id, name, created_at) VALUES ('emu', 'EMU', ?)").run(now);
  db.prepare("INSERT OR IGNORE INTO customers (id, name, timezone, created_at) VALUES ('bench', 'Bench', 'Europe/Madrid', ?)").run(now);
  const device = db.prepare("INSERT INTO devices (id, customer, product, hardware, version, created_at) VALUES (?, 'bench', 'emu', 'emu-hw-1', '1.0.0', ?)");
  const token = db.prepare('INSERT INTO tokens (hash, device_id, created_at) VALUES (?, ?, ?)');
  const tokens: string[] = [];
  db.transaction(() => {
    for (let index = 0; index < count; index++) {
      const id = `bench-${String(index).padStart(6, '0')}`;
      const plain = `d_bench_${index}_${id}`;
      device.run(id, now);
      token.run(hashToken(plain), id, now);
      tokens.push(plain);
    }
  })();
  db.close();
  return tokens;
}
