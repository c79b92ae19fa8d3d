// The vendor's console (issue 18): an overview, then one module per job under console/ —
// releases, plans (draft, propose, rollout), devices, faults, SLA, remote support,
// commissioning and the audit log. Support and admin see everything; release engineers see
// releases.
import type { FastifyInstance } from 'fastify';
import { html } from './html.js';
import { requireStaff, sendPage, doneFlash } from './kit.js';
import { dataTable } from './table.js';
import { localTime } from './time.js';
import { staffZone, zoneCookie } from './console/zone.js';
import { csrfField, formValues } from './kit.js';
import { cookieOptions } from './plugin.js';
import { IANAZone } from 'luxon';
import { SluiceError } from '../errors.js';
import releasePages from './console/releases.js';
import planPages from './console/plans.js';
import planNewPages from './console/plan-new.js';
import devicePages from './console/devices.js';
import faultPages from './console/faults.js';
import slaPages from './console/sla.js';
import supportPages from './console/support.js';
import commissioningPages from './console/commissioning.js';
import auditPages from './console/audit.js';

export default async function staffPages(app: FastifyInstance) {
  const { store } = app.sluice;

  app.get('/staff', async (request, reply) => {
    if (request.portal?.user.role === 'release') return reply.redirect('/staff/releases');
    if (!requireStaff(request, reply)) return;
    const zone = staffZone(request);
    const byCustomer = await store.devices.fleetSummary();
    const live = (await Promise.all(['confirmed', 'in_progress'].map((status) => store.plans.list({ status })))).flat();
    const waiting = (await Promise.all(['draft', 'countered'].map((status) => store.plans.list({ status })))).flat();
    const totals: [string, number, string][] = [
      ['Devices', byCustomer.reduce((sum, row) => sum + row.devices, 0), '/staff/devices'],
      ['Customers', (await store.customers.list()).length, '/staff/devices'],
      ['Plans rolling out', live.length, '/staff/plans?status=in_progress'],
      ['Plans to propose', waiting.length, '/staff/plans'],
      ['Open faults', await store.faults.countUnresolved(), '/staff/faults'],
    ];
    const zones = [
      ...new Set([
        zone,
        'UTC',
        ...(await store.customers.list()).map((customer) => customer.timezone),
        'Europe/London',
        'Europe/Madrid',
        'America/New_York',
      ]),
    ];
    return sendPage(request, reply, {
      title: 'Overview',
      section: '/staff',
      flash: doneFlash(request, { zone: `Times are now shown in ${zone}.` }),
      body: html`<h1>Overview</h1>
        <form method="post" action="/staff/zone" class="filters">
          ${csrfField(request)}
          <div>
            <label for="staff-zone">Show times in</label
            ><select id="staff-zone" name="zone">
              ${zones.map((name) => html`<option value="${name}" ${name === zone ? html` selected` : ''}>${name}</option>`)}
            </select>
          </div>
          <button class="secondary" type="submit">Use this zone</button>
        </form>
        <div class="grid">
          ${totals.map(
            ([label, value, href]) =>
              html`<a class="card" href="${href}"
                ><div class="muted">${label}</div>
                <div class="stat">${value}</div></a
              >`,
          )}
        </div>
        <h2>Devices by customer, product and version</h2>
        ${dataTable(
          ['Customer', 'Product', 'Version', 'Devices', 'Failed last update', `Last contact (${zone})`],
          byCustomer.map((row) => [
            html`<a href="/staff/devices?customer=${row.customer}">${row.customer}</a>`,
            row.product,
            html`<a href="/staff/devices?customer=${row.customer}&amp;version=${row.version}">${row.version}</a>`,
            String(row.devices),
            row.failing ? html`<strong class="breached">${row.failing}</strong>` : '0',
            localTime(row.lastSeenAt, zone) || '—',
          ]),
          { empty: 'No devices yet.' },
        )}`,
    });
  });

  app.post('/staff/zone', async (request, reply) => {
    if (!requireStaff(request, reply, ['support', 'admin', 'release'])) return;
    const zone = formValues(request.body, 64).zone ?? '';
    if (!IANAZone.isValidZone(zone)) throw new SluiceError('invalid_timezone', `"${zone}" is not a time zone like Europe/Madrid.`);
    reply.setCookie(zoneCookie, zone, { ...cookieOptions(request), maxAge: 365 * 86400 });
    return reply.redirect('/staff?done=zone', 303);
  });

  await app.register(releasePages);
  await app.register(planNewPages);
  await app.register(planPages);
  await app.register(devicePages);
  await app.register(faultPages);
  await app.register(slaPages);
  await app.register(supportPages);
  await app.register(commissioningPages);
  await app.register(auditPages);
}
