// The fleet in the console: filters (customer, product, version, state, last seen), and a
// device's page with its history of events, current and previous versions, last check-in,
// open faults, support sessions and the plans it is in.
import type { FastifyInstance } from 'fastify';
import { html } from '../html.js';
import { statusBadge } from '../layout.js';
import { requireStaff, sendPage } from '../kit.js';
import { dataTable } from '../table.js';
import { localTime, zonedTime } from '../time.js';
import { staffZone } from './zone.js';
import { SluiceError } from '../../errors.js';
import { faultViews } from '../../services/faults.js';
import { listSessions, sessionView } from '../../services/support-sessions.js';

const seenChoices: [string, string, number][] = [
  ['', 'any time', 0],
  ['1h', 'within the last hour', 3600_000],
  ['24h', 'within a day', 86400_000],
  ['stale', 'not for a day or more', -86400_000],
  ['never', 'never', 0],
];

export default async function devicePages(app: FastifyInstance) {
  const context = app.sluice;
  const { store, options } = context;

  app.get('/staff/devices', async (request, reply) => {
    if (!requireStaff(request, reply)) return;
    const zone = staffZone(request);
    const now = options.now().getTime();
    const query = request.query as { customer?: string; product?: string; version?: string; state?: string; seen?: string };
    const all = await store.devices.list({ customer: query.customer || undefined, product: query.product || undefined });
    const devices = all.filter((device) => {
      if (query.version && device.version !== query.version) return false;
      if (query.state && (device.state ?? 'never seen') !== query.state) return false;
      const seen = device.lastSeenAt?.getTime();
      switch (query.seen) {
        case '1h':
          return seen !== undefined && now - seen <= 3600_000;
        case '24h':
          return seen !== undefined && now - seen <= 86400_000;
        case 'stale':
          return seen !== undefined && now - seen > 86400_000;
        case 'never':
          return seen === undefined;
        default:
          return true;
      }
    });
    const customers = await store.customers.list();
    const products = await store.products.list();
    const everything = query.customer || query.product ? await store.devices.list() : all;
    const versions = [...new Set(everything.map((device) => device.version))].sort();
    const states = [...new Set(everything.map((device) => device.state ?? 'never seen'))].sort();
    const select = (name: string, label: string, choices: [string, string][], current: string | undefined) =>
      html`<div>
        <label for="filter-${name}">${label}</label
        ><select id="filter-${name}" name="${name}">
          <option value="">all</option>
          ${choices.map(([value, text]) => html`<option value="${value}" ${value === current ? html` selected` : ''}>${text}</option>`)}
        </select>
      </div>`;
    return sendPage(request, reply, {
      title: 'Devices',
      section: '/staff/devices',
      body: html`<h1>Devices</h1>
        <form method="get" action="/staff/devices" class="filters">
          ${select(
            'customer',
            'Customer',
            customers.map((customer) => [customer.id, customer.name]),
            query.customer,
          )}
          ${select(
            'product',
            'Product',
            products.map((product) => [product.id, product.name]),
            query.product,
          )}${select(
            'version',
            'Version',
            versions.map((version) => [version, version]),
            query.version,
          )}
          ${select(
            'state',
            'State',
            states.map((state) => [state, state]),
            query.state,
          )}
          <div>
            <label for="filter-seen">Last seen</label
            ><select id="filter-seen" name="seen">
              ${seenChoices.map(([value, text]) => html`<option value="${value}" ${value === (query.seen ?? '') ? html` selected` : ''}>${text}</option>`)}
            </select>
          </div>
          <button class="secondary" type="submit">Filter</button>
        </form>
        <p class="legend">${devices.length} of ${all.length} devices. Times in ${zone}.</p>
        ${dataTable(
          ['Device', 'Customer', 'Product', 'Version', 'State', 'Last seen'],
          devices
            .slice(0, 500)
            .map((device) => [
              html`<a href="/staff/devices/${device.id}">${device.id}</a>`,
              device.customer,
              device.product,
              device.version,
              device.state ? statusBadge(device.state) : html`<span class="muted">never seen</span>`,
              localTime(device.lastSeenAt, zone) || '—',
            ]),
          { empty: 'No device matches.' },
        )}`,
    });
  });

  app.get('/staff/devices/:id', async (request, reply) => {
    if (!requireStaff(request, reply)) return;
    const zone = staffZone(request);
    const now = options.now();
    const device = await store.devices.get((request.params as { id: string }).id);
    if (!device) throw new SluiceError('not_found', 'There is no such device.');
    const history = await store.devices.history(device.id, 200);
    // Versions it ran: the one it runs now, and each release it committed before that.
    const releases = new Map((await store.releases.list(device.product)).map((release) => [release.id, release.version]));
    const versions = [
      ...new Set(
        history
          .filter((event) => event.state === 'committed' && event.release)
          .map((event) => releases.get(event.release!) ?? event.release!),
      ),
    ];
    const previous = versions.filter((version) => version !== device.version);
    const faults = await faultViews(
      context,
      (await store.faults.list({ customer: device.customer, unclosed: true, limit: 1000 })).filter((fault) => fault.device === device.id),
      now,
    );
    const sessions = (await listSessions(context, device.customer, now))
      .filter((session) => session.device === device.id)
      .map((session) => sessionView(session, now));
    return sendPage(request, reply, {
      title: device.id,
      section: '/staff/devices',
      body: html`<h1>${device.id} ${device.state ? statusBadge(device.state) : ''}</h1>
        <section class="card">
          <dl class="facts">
            <dt>Customer</dt>
            <dd>${device.customer}</dd>
            <dt>Product</dt>
            <dd>${device.product} (${device.hardware})</dd>
            <dt>Version</dt>
            <dd>${device.version}</dd>
            <dt>Previous versions</dt>
            <dd>${previous.join(', ') || '—'}</dd>
            <dt>Last check-in</dt>
            <dd>${zonedTime(device.lastSeenAt, zone) || 'never'}</dd>
            <dt>Registered</dt>
            <dd>${zonedTime(device.createdAt, zone)}</dd>
          </dl>
          <p><a href="/staff/support/new?device=${device.id}">Request remote support</a></p>
        </section>
        <h2>Open faults</h2>
        ${dataTable(
          ['Fault', 'Class', 'Status'],
          faults.map((fault) => [
            html`<a href="/staff/faults/${fault.id}">${fault.id}</a>: ${fault.title}`,
            fault.class,
            statusBadge(fault.status),
          ]),
          { empty: 'None.' },
        )}
        <h2>Support sessions</h2>
        ${dataTable(
          ['Reason', 'Status', 'Requested'],
          sessions.map((session) => [
            html`<a href="/staff/support/${session.id}">${session.reason}</a>`,
            statusBadge(session.status),
            localTime(session.requestedAt, zone),
          ]),
          { empty: 'None.' },
        )}
        <h2>History</h2>
        ${dataTable(
          [`When (${zone})`, 'State', 'Plan', 'Detail'],
          history.map((event) => [
            localTime(event.at, zone),
            statusBadge(event.state),
            event.plan ? html`<a href="/staff/plans/${event.plan}">${releases.get(event.release ?? '') ?? 'plan'}</a>` : '—',
            event.detail ?? '',
          ]),
          { empty: 'No events reported yet.' },
        )}`,
    });
  });
}
