// Commissioning plans in the console: draft one (mode, date in the customer's zone,
// equipment, services, engineers, windows), then propose and follow it on the plan's own
// page (plans.ts): it follows the upgrade plan's lifecycle and document.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../html.js';
import { statusBadge } from '../layout.js';
import { csrfField, formError, formValues, requireStaff, sendPage, typed, type FormState } from '../kit.js';
import { principalOf } from '../sessions.js';
import { dataTable } from '../table.js';
import { zonedTime } from '../time.js';
import { windowErrorText } from '../window-errors.js';
import { windowsEditor, windowsFromForm } from './windows-editor.js';
import { actorOf } from '../../auth/principal.js';
import { SluiceError } from '../../errors.js';
import { planView } from '../../services/plan-view.js';
import { createCommissioningPlan, commissioningDeadline } from '../../services/commissioning.js';
import type { CommissioningDetails } from '../../domain/commissioning.js';
import { resolveLocalTime } from '../../domain/windows.js';

/** "2 × EMU-500" lines, one item per line: "count type". */
function equipmentOf(text: string): { type: string; count: number }[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const match = /^(\d+)\s*[x×*]?\s*(.+)$/i.exec(line);
      return match ? { count: Number(match[1]), type: match[2].trim().slice(0, 200) } : { count: 1, type: line.slice(0, 200) };
    });
}
/** "Name, phone" lines. */
function engineersOf(text: string): { name: string; phone?: string }[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [name, phone] = line.split(',').map((part) => part.trim());
      return phone ? { name: name.slice(0, 200), phone: phone.slice(0, 50) } : { name: name.slice(0, 200) };
    });
}

export default async function commissioningPages(app: FastifyInstance) {
  const context = app.sluice;
  const { store, options } = context;

  app.get('/staff/commissioning', async (request, reply) => {
    if (!requireStaff(request, reply)) return;
    const now = options.now();
    const zones = new Map((await store.customers.list()).map((customer) => [customer.id, customer.timezone]));
    const plans = await store.plans.list({ kind: 'commissioning' });
    const rows = [];
    for (const plan of plans) {
      const view = await planView(context, plan, now);
      const zone = zones.get(plan.customer) ?? 'UTC';
      rows.push([
        html`<a href="/staff/plans/${plan.id}"
          >${plan.customer}: ${(plan.details as { mode?: string } | null)?.mode === 'on_site' ? 'on site' : 'remote'}</a
        >`,
        statusBadge(view.status),
        zonedTime((plan.details as { date?: string } | null)?.date, zone),
      ]);
    }
    return sendPage(request, reply, {
      title: 'Commissioning',
      section: '/staff/commissioning',
      body: html`<h1>Commissioning plans</h1>
        <p><a href="/staff/commissioning/new">Draft a commissioning plan</a></p>
        ${dataTable(['Plan', 'Status', "Date (customer's zone)"], rows, { empty: 'No commissioning plans.' })}`,
    });
  });

  const draftPage = async (request: FastifyRequest, reply: FastifyReply, state: FormState | null) => {
    const customers = await store.customers.list();
    const chosen = typed(state, 'commissioning', 'customer', (request.query as { customer?: string }).customer ?? customers[0]?.id ?? '');
    const zone = customers.find((customer) => customer.id === chosen)?.timezone ?? 'UTC';
    return sendPage(
      request,
      reply,
      {
        title: 'Draft a commissioning plan',
        section: '/staff/commissioning',
        body: html`<h1>Draft a commissioning plan</h1>
          <form method="get" action="/staff/commissioning/new" class="filters">
            <div>
              <label for="pick-customer">Customer</label
              ><select id="pick-customer" name="customer">
                ${customers.map((customer) => html`<option value="${customer.id}" ${customer.id === chosen ? html` selected` : ''}>${customer.name} (${customer.timezone})</option>`)}
              </select>
            </div>
            <button class="secondary" type="submit">Choose</button>
          </form>
          ${formError(state, 'commissioning')}
          <form method="post" action="/staff/commissioning">
            ${csrfField(request)}<input type="hidden" name="customer" value="${chosen}" />
            <section class="card">
              <label for="mode">Mode</label
              ><select id="mode" name="mode">
                <option value="on_site">On site</option>
                <option value="remote" ${typed(state, 'commissioning', 'mode') === 'remote' ? html` selected` : ''}>Remote</option>
              </select>
              <label for="date">Date (${zone})</label
              ><input id="date" name="date" type="datetime-local" required value="${typed(state, 'commissioning', 'date')}" />
              <label for="equipment">Equipment, one line each: number and type (e.g. "4 EMU-500")</label
              ><textarea id="equipment" name="equipment" rows="3" required>${typed(state, 'commissioning', 'equipment')}</textarea>
              <label for="services">Services, one per line</label
              ><textarea id="services" name="services" rows="3">${typed(state, 'commissioning', 'services')}</textarea>
              <label for="engineers">Engineers, one line each: name, phone</label
              ><textarea id="engineers" name="engineers" rows="2" required>${typed(state, 'commissioning', 'engineers')}</textarea>
              <label for="notes">Notes to the customer</label
              ><textarea id="notes" name="notes" rows="2">${typed(state, 'commissioning', 'notes')}</textarea>
            </section>
            <section class="card">
              <h2>Windows</h2>
              ${windowsEditor(state, 'commissioning', zone)}
            </section>
            <button type="submit">Save the draft</button>
          </form>`,
      },
      state ? 422 : 200,
    );
  };

  app.get('/staff/commissioning/new', async (request, reply) => {
    if (!requireStaff(request, reply)) return;
    return draftPage(request, reply, null);
  });

  app.post('/staff/commissioning', async (request, reply) => {
    const user = requireStaff(request, reply);
    if (!user) return;
    const values = formValues(request.body);
    const customer = await store.customers.get(values.customer ?? '');
    if (!customer) throw new SluiceError('unknown_customer', 'Choose a customer.');
    const zone = customer.timezone;
    const now = options.now();
    const refuse = (message: string) => draftPage(request, reply, { form: 'commissioning', message, values, body: request.body });
    let date: Date;
    try {
      date = resolveLocalTime((values.date ?? '').slice(0, 16), zone);
    } catch {
      return refuse(`Enter the date as a date and time in ${zone}.`);
    }
    const details: CommissioningDetails = {
      mode: values.mode === 'remote' ? 'remote' : 'on_site',
      date: date.toISOString(),
      equipment: equipmentOf(values.equipment ?? ''),
      services: (values.services ?? '')
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean),
      engineers: engineersOf(values.engineers ?? ''),
    };
    const windows = windowsFromForm(request.body, values, zone);
    if (windows.length === 0) return refuse('Give at least one window.');
    let plan;
    try {
      plan = await createCommissioningPlan(
        context,
        { customer: customer.id, ...details, windows, notes: (values.notes ?? '').trim() },
        actorOf(principalOf(user)),
      );
    } catch (error) {
      if (!(error instanceof SluiceError) || error.status >= 500) throw error;
      return refuse(windowErrorText(error, { zone, deadline: commissioningDeadline(date), now, windows }) ?? error.message);
    }
    return reply.redirect(`/staff/plans/${plan.id}?done=drafted`, 303);
  });
}
