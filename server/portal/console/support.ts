// Remote support in the console: request a session for a device (what to collect, why), see
// its consent state and expiry, and download the bundle once the device uploaded it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../html.js';
import { statusBadge } from '../layout.js';
import { csrfField, doneFlash, formError, formList, formValues, requireStaff, sendPage, typed, type FormState } from '../kit.js';
import { principalOf } from '../sessions.js';
import { dataTable } from '../table.js';
import { localTime, zonedTime } from '../time.js';
import { collectorText } from '../customer/support.js';
import { staffZone } from './zone.js';
import { actorOf } from '../../auth/principal.js';
import { SluiceError } from '../../errors.js';
import { listSessions, requestSession, sessionView } from '../../services/support-sessions.js';
import { readableOf } from '../../storage/artifact-store.js';

const collectors = Object.keys(collectorText);
const flashes = { requested: 'Requested: the customer is asked for consent; nothing is collected before it.' };

export default async function supportPages(app: FastifyInstance) {
  const context = app.sluice;
  const { store, options } = context;

  app.get('/staff/support', async (request, reply) => {
    if (!requireStaff(request, reply)) return;
    const zone = staffZone(request);
    const now = options.now();
    const sessions = (await listSessions(context, null, now, 500)).map((session) => sessionView(session, now));
    return sendPage(request, reply, {
      title: 'Remote support',
      section: '/staff/support',
      live: true,
      body: html`<h1>Remote support sessions</h1>
        <p><a href="/staff/support/new">Request a session</a></p>
        <p class="legend">Times in ${zone}.</p>
        <div id="live-support" data-live="10">
          ${dataTable(
            ['Device', 'Customer', 'Reason', 'Status', 'Requested', 'Bundle'],
            sessions.map((session) => [
              html`<a href="/staff/support/${session.id}">${session.device}</a>`,
              session.customer,
              session.reason,
              html`${statusBadge(session.status)}${session.expiresAt && session.status === 'consented' ? html`<div class="legend">until ${localTime(session.expiresAt, zone)}</div>` : ''}`,
              localTime(session.requestedAt, zone),
              session.bundle ? html`<a href="/staff/support/${session.id}/bundle">${session.bundle.size} bytes</a>` : '—',
            ]),
            { empty: 'No sessions.' },
          )}
        </div>`,
    });
  });

  const newPage = async (request: FastifyRequest, reply: FastifyReply, state: FormState | null) => {
    const devices = await store.devices.list();
    const chosen = typed(state, 'request', 'device', (request.query as { device?: string }).device ?? '');
    const collect = new Set(typed(state, 'request', 'collect', 'logs').split('\n'));
    return sendPage(
      request,
      reply,
      {
        title: 'Request remote support',
        section: '/staff/support',
        body: html`<h1>Request remote support</h1>
          ${formError(state, 'request')}
          <form method="post" action="/staff/support">
            ${csrfField(request)}<label for="support-device">Device</label
            ><select id="support-device" name="device" required>
              ${devices.map((device) => html`<option value="${device.id}" ${device.id === chosen ? html` selected` : ''}>${device.id} (${device.customer})</option>`)}
            </select>
            <label for="support-reason">Why (the customer reads this)</label
            ><textarea id="support-reason" name="reason" rows="3" required maxlength="2000">${typed(state, 'request', 'reason')}</textarea>
            <fieldset>
              <legend>What to collect</legend>
              ${collectors.map(
                (name) =>
                  html`<label class="choice"
                    ><input type="checkbox" name="collect" value="${name}" ${collect.has(name) ? html` checked` : ''} />
                    <span><strong>${name}</strong>: ${collectorText[name]}</span></label
                  >`,
              )}
            </fieldset>
            <button type="submit">Ask the customer for consent</button>
          </form>`,
      },
      state ? 422 : 200,
    );
  };

  app.get('/staff/support/new', async (request, reply) => {
    if (!requireStaff(request, reply)) return;
    return newPage(request, reply, null);
  });

  app.post('/staff/support', async (request, reply) => {
    const user = requireStaff(request, reply);
    if (!user) return;
    const values = formValues(request.body, 2000);
    const collect = formList(request.body, 'collect').filter((name) => collectors.includes(name));
    const reason = (values.reason ?? '').trim();
    const refuse = (message: string) => newPage(request, reply, { form: 'request', message, values });
    if (!reason) return refuse('Say why you need the diagnostics: the customer decides on this.');
    if (collect.length === 0) return refuse('Choose at least one thing to collect.');
    if (!(await store.devices.get(values.device ?? ''))) return refuse('Choose a device from the list.');
    const session = await requestSession(context, { device: values.device!, reason, collect }, actorOf(principalOf(user)));
    return reply.redirect(`/staff/support/${session.id}?done=requested`, 303);
  });

  app.get('/staff/support/:id', async (request, reply) => {
    if (!requireStaff(request, reply)) return;
    const zone = staffZone(request);
    const now = options.now();
    const id = (request.params as { id: string }).id;
    const found = (await listSessions(context, null, now, 1000)).find((session) => session.id === id);
    if (!found) throw new SluiceError('not_found', 'There is no such support session.');
    const session = sessionView(found, now);
    return sendPage(request, reply, {
      title: 'Support session',
      section: '/staff/support',
      live: ['requested', 'consented'].includes(session.status),
      flash: doneFlash(request, flashes),
      body: html`<h1>Support for <a href="/staff/devices/${session.device}">${session.device}</a></h1>
        <div id="live-session" data-live="5">
          <section class="card">
            <dl class="facts">
              <dt>Status</dt>
              <dd>${statusBadge(session.status)}</dd>
              <dt>Customer</dt>
              <dd>${session.customer}</dd>
              <dt>Reason</dt>
              <dd>${session.reason}</dd>
              <dt>Collects</dt>
              <dd>${session.collect.join(', ')}</dd>
              <dt>Requested</dt>
              <dd>${zonedTime(session.requestedAt, zone)} by ${session.requestedBy}</dd>
              <dt>Consent</dt>
              <dd>
                ${session.decidedAt ? `${session.status === 'refused' ? 'refused' : 'given'} by ${session.decidedBy} at ${zonedTime(session.decidedAt, zone)}` : 'waiting for the customer'}${session.expiresAt ? html`; expires ${zonedTime(session.expiresAt, zone)}` : ''}
              </dd>
              <dt>Bundle</dt>
              <dd>
                ${session.bundle ? html`<a href="/staff/support/${session.id}/bundle">Download (${session.bundle.size} bytes, SHA-256 ${session.bundle.sha256.slice(0, 12)}…)</a>, uploaded ${zonedTime(session.uploadedAt, zone)}` : 'not uploaded yet'}
              </dd>
            </dl>
          </section>
        </div>`,
    });
  });

  app.get('/staff/support/:id/bundle', async (request, reply) => {
    const user = requireStaff(request, reply);
    if (!user) return;
    const id = (request.params as { id: string }).id;
    const session = await store.supportSessions.get(id);
    if (!session) throw new SluiceError('not_found', 'There is no such support session.');
    if (!session.uploadedAt) throw new SluiceError('not_found', 'The device has not uploaded a bundle for this session.');
    await store.audit.record({
      at: options.now(),
      actor: actorOf(principalOf(user)),
      action: 'support.download',
      subject: `support-session:${session.id}`,
    });
    return reply
      .type('application/gzip')
      .header('Content-Disposition', `attachment; filename="diagnostics-${session.device}-${session.id}.json.gz"`)
      .send(await readableOf(context.bundles, session.id));
  });
}
