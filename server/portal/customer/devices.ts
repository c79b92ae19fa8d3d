// The customer's devices: version, state and last contact in their zone.
import type { FastifyInstance } from 'fastify';
import { html } from '../html.js';
import { statusBadge } from '../layout.js';
import { sendPage } from '../kit.js';
import { dataTable } from '../table.js';
import { localTime } from '../time.js';
import { customerOf, requireRole } from '../customer-pages.js';

export default async function customerDevicePages(app: FastifyInstance) {
  const { store } = app.sluice;
  app.get('/portal/devices', async (request, reply) => {
    const user = requireRole(request, reply, true);
    if (!user) return;
    const zone = (await customerOf(store, user.customer!)).timezone;
    const devices = await store.devices.list({ customer: user.customer! });
    const products = new Map((await store.products.list()).map((product) => [product.id, product.name]));
    return sendPage(request, reply, {
      title: 'Devices',
      section: '/portal/devices',
      body: html`<h1>Your devices</h1>
        ${dataTable(
          ['Device', 'Product', 'Version', 'State', `Last contact (${zone})`],
          devices.map((device) => [
            device.id,
            products.get(device.product) ?? device.product,
            device.version,
            device.state ? statusBadge(device.state) : html`<span class="muted">never seen</span>`,
            localTime(device.lastSeenAt, zone) || '—',
          ]),
          { empty: 'No devices yet.' },
        )}`,
    });
  });
}
