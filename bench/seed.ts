// Fills a data directory's store directly through the repositories: a product, a customer
// and N devices with tokens (100,000 through the API would measure the API, not the
// check-in). Returns every device's token, so that a load run can spread over the whole
// fleet. `databaseUrl` names another store than the data directory's SQLite file.
import { openStore } from '../server/storage/open.js';

export async function seedDevices(dataDir: string, count: number, databaseUrl?: string): Promise<string[]> {
  const store = await openStore({ dataDir, url: databaseUrl });
  try {
    const now = new Date();
    if (!(await store.products.get('emu'))) await store.products.create({ id: 'emu', name: 'EMU' }, now);
    if (!(await store.customers.get('bench'))) await store.customers.create({ id: 'bench', name: 'Bench', timezone: 'Europe/Madrid' }, now);
    const devices = Array.from({ length: count }, (_, index) => ({
      id: `bench-${String(index).padStart(6, '0')}`,
      customer: 'bench',
      product: 'emu',
      hardware: 'emu-hw-1',
      version: '1.0.0',
    }));
    return (await store.devices.createMany(devices, now)).map((device) => device.token);
  } finally {
    await store.close();
  }
}
