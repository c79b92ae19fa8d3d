// The customer's faults: report one (the class explained where it is picked), then each
// fault's due times in the customer's zone with countdowns, breaches in words, resolutions.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../html.js';
import { statusBadge } from '../layout.js';
import { principalOf } from '../sessions.js';
import { csrfField, doneFlash, formError, formValues, sendPage, typed, type FormState } from '../kit.js';
import { dataTable } from '../table.js';
import { acknowledgeCell, classList, classOptions, clockNote, resolveCell } from '../fault-parts.js';
import { customerOf, requireRole } from '../customer-pages.js';
import { actorOf } from '../../auth/principal.js';
import { SluiceError } from '../../errors.js';
import { faultViews, openFault } from '../../services/faults.js';
import { parseFaultClass } from '../../domain/faults.js';

const flashes = { reported: 'Your fault report was received. The due times are shown below.' };

export default async function customerFaultPages(app: FastifyInstance) {
  const context = app.sluice;
  const { store, options } = context;

  const faultsPage = async (request: FastifyRequest, reply: FastifyReply, state: FormState | null = null) => {
    const user = request.portal!.user;
    const zone = (await customerOf(store, user.customer!)).timezone;
    const now = options.now();
    const faults = await faultViews(context, await store.faults.list({ customer: user.customer!, limit: 1000 }), now);
    const devices = await store.devices.list({ customer: user.customer! });
    const rows = faults.map((fault) => ({
      className: fault.breached ? 'breached' : '',
      cells: [
        html`<strong>${fault.id}</strong>: ${fault.title}${fault.device ? html`<div class="legend">device ${fault.device}</div>` : ''}`,
        html`${fault.class} <span class="legend">(${fault.severity})</span>`,
        html`${statusBadge(fault.status)}${fault.breached ? html`<div class="breached">breached</div>` : ''}`,
        html`${acknowledgeCell(fault, now, zone)}${clockNote(fault)}`,
        resolveCell(fault, now, zone),
      ],
    }));
    return sendPage(
      request,
      reply,
      {
        title: 'Faults',
        section: '/portal/faults',
        live: true,
        flash: state ? null : doneFlash(request, flashes),
        body: html`<h1>Faults</h1>
          <section class="card" aria-labelledby="report-title">
            <h2 id="report-title">Report a fault</h2>
            ${formError(state, 'report')}
            <form method="post" action="/portal/faults">
              ${csrfField(request)} <label for="fault-class">Class</label
              ><select id="fault-class" name="class" aria-describedby="class-help">
                ${classOptions(typed(state, 'report', 'class', 'C'))}
              </select>
              <div id="class-help">${classList()}</div>
              <label for="fault-severity">Severity</label
              ><select id="fault-severity" name="severity">
                <option value="general">general</option>
                <option value="major" ${typed(state, 'report', 'severity') === 'major' ? html` selected` : ''}>major</option>
              </select>
              <label for="fault-device">Device (optional)</label
              ><select id="fault-device" name="device">
                <option value="">—</option>
                ${devices.map((device) => html`<option value="${device.id}" ${typed(state, 'report', 'device') === device.id ? html` selected` : ''}>${device.id}</option>`)}
              </select>
              <label for="fault-title">Title</label
              ><input id="fault-title" name="title" required maxlength="300" value="${typed(state, 'report', 'title')}" />
              <label for="fault-description">Description</label
              ><textarea id="fault-description" name="description" rows="4" maxlength="20000">
${typed(state, 'report', 'description')}</textarea>
              <button type="submit">Report</button>
            </form>
          </section>
          <h2>Your faults <span class="legend">(times in ${zone})</span></h2>
          <div id="live-faults" data-live="15">
            ${dataTable(['Fault', 'Class', 'Status', 'Processing starts', 'Resolution'], rows, { empty: 'No faults reported.' })}
          </div>`,
      },
      state ? 422 : 200,
    );
  };

  app.get('/portal/faults', async (request, reply) => {
    if (!requireRole(request, reply, true)) return;
    return faultsPage(request, reply);
  });

  app.post('/portal/faults', async (request, reply) => {
    const user = requireRole(request, reply, true);
    if (!user) return;
    const values = formValues(request.body);
    const title = (values.title ?? '').trim();
    const refuse = (message: string) => faultsPage(request, reply, { form: 'report', message, values });
    if (!title) return refuse('Give the fault a title: a few words that say what is wrong.');
    let faultClass;
    try {
      faultClass = parseFaultClass(values.class);
    } catch {
      return refuse('Choose a class, A to D.');
    }
    try {
      await openFault(
        context,
        {
          customer: user.customer!,
          device: values.device || null,
          class: faultClass,
          severity: values.severity === 'major' ? 'major' : 'general',
          title: title.slice(0, 300),
          description: (values.description ?? '').slice(0, 20000),
          source: 'customer',
        },
        actorOf(principalOf(user)),
      );
    } catch (error) {
      if (error instanceof SluiceError && ['unknown_device', 'customer_mismatch'].includes(error.code))
        return refuse('Choose one of your own devices, or none.');
      throw error;
    }
    return reply.redirect('/portal/faults?done=reported', 303);
  });
}
