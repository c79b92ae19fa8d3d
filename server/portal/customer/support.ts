// Remote support from the customer's side: each request says who asked, when, why and what
// would be collected; consent is given for a duration the customer chooses, and can be
// refused or withdrawn. Nothing is uploaded without it (services/support-sessions.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../html.js';
import { statusBadge } from '../layout.js';
import { principalOf } from '../sessions.js';
import { csrfField, doneFlash, formValues, sendPage } from '../kit.js';
import { dataTable } from '../table.js';
import { zonedTime } from '../time.js';
import { customerOf, requireRole } from '../customer-pages.js';
import { actorOf } from '../../auth/principal.js';
import { SluiceError } from '../../errors.js';
import { sessionView, decideSession, listSessions, type SessionView } from '../../services/support-sessions.js';
import { defaultConsentHours } from '../../domain/support-sessions.js';

const flashes: Record<string, string> = {
  consent: 'Consent recorded: the device may upload its diagnostics until the consent expires.',
  refuse: 'Refused: the device will not upload anything for this request.',
  withdraw: 'Consent withdrawn: the device will not upload anything more.',
};

/** What each collector takes from the device, in the customer's words. */
export const collectorText: Record<string, string> = {
  logs: 'the application log files configured on the device',
  journal: 'the system journal (operating-system log)',
  system: 'system facts: versions, slots, disk and memory use, uptime',
};

/** The durations offered; the API accepts up to 14 days. */
const durations = [1, 4, 8, 24, 72, 168];
const durationText = (hours: number) => (hours < 24 ? `${hours} hour${hours > 1 ? 's' : ''}` : `${hours / 24} day${hours > 24 ? 's' : ''}`);
const who = (actor: string) => actor.replace(/^user:/, '');

export default async function customerSupportPages(app: FastifyInstance) {
  const context = app.sluice;
  const { store, options } = context;

  const ownSession = async (customer: string, id: string): Promise<SessionView> => {
    const now = options.now();
    const session = (await listSessions(context, customer, now)).find((candidate) => candidate.id === id);
    if (!session) throw new SluiceError('not_found', 'There is no such support request for your organisation.');
    return sessionView(session, now);
  };

  app.get('/portal/support', async (request, reply) => {
    const user = requireRole(request, reply, true);
    if (!user) return;
    const zone = (await customerOf(store, user.customer!)).timezone;
    const now = options.now();
    const sessions = (await listSessions(context, user.customer!, now)).map((session) => sessionView(session, now));
    return sendPage(request, reply, {
      title: 'Remote support',
      section: '/portal/support',
      flash: doneFlash(request, flashes),
      body: html`<h1>Remote support requests</h1>
        <p class="muted">
          The vendor can collect diagnostics from a device only with your consent, for the time you choose. Times in ${zone}.
        </p>
        ${dataTable(
          ['Request', 'Asked by', 'Collects', 'Status', ''],
          sessions.map((session) => [
            html`<strong>${session.device}</strong>: ${session.reason}`,
            html`${who(session.requestedBy)}
              <div class="legend">${zonedTime(session.requestedAt, zone)}</div>`,
            session.collect.join(', '),
            html`${statusBadge(session.status)}${session.expiresAt && session.status === 'consented' ? html`<div class="legend">until ${zonedTime(session.expiresAt, zone)}</div>` : ''}`,
            html`<a href="/portal/support/${session.id}">${session.status === 'requested' ? 'Answer this request' : 'Details'}</a>`,
          ]),
          { empty: 'No requests.' },
        )}`,
    });
  });

  const sessionPage = async (request: FastifyRequest, reply: FastifyReply, session: SessionView, zone: string) => {
    const decision =
      session.status === 'requested'
        ? html`<section class="card" aria-labelledby="decide-title">
            <h2 id="decide-title">Your answer</h2>
            <form method="post" action="/portal/support/${session.id}/consent">
              ${csrfField(request)} <label for="consent-hours">Allow the upload for</label
              ><select id="consent-hours" name="hours">
                ${durations.map((hours) => html`<option value="${hours}" ${hours === defaultConsentHours ? html` selected` : ''}>${durationText(hours)}</option>`)}
              </select>
              <button type="submit">Consent</button>
            </form>
            <form method="post" action="/portal/support/${session.id}/refuse">
              ${csrfField(request)}<button class="secondary" type="submit">Refuse</button>
            </form>
          </section>`
        : session.status === 'consented'
          ? html`<section class="card">
              <p>You consented until <strong>${zonedTime(session.expiresAt, zone)}</strong>.</p>
              <form method="post" action="/portal/support/${session.id}/withdraw">
                ${csrfField(request)}<button class="secondary" type="submit">Withdraw consent</button>
              </form>
            </section>`
          : '';
    return sendPage(request, reply, {
      title: 'Remote support request',
      section: '/portal/support',
      flash: doneFlash(request, flashes),
      body: html`<h1>Remote support for ${session.device} ${statusBadge(session.status)}</h1>
        <section class="card">
          <dl class="facts">
            <dt>Asked by</dt>
            <dd>${who(session.requestedBy)} (vendor support)</dd>
            <dt>When</dt>
            <dd>${zonedTime(session.requestedAt, zone)}</dd>
            <dt>Why</dt>
            <dd>${session.reason}</dd>
            <dt>Device</dt>
            <dd>${session.device}</dd>
            <dt>What will be collected</dt>
            <dd>
              <ul>
                ${session.collect.map((name) => html`<li><strong>${name}</strong>: ${collectorText[name] ?? name}</li>`)}
              </ul>
            </dd>
            ${
              session.decidedAt
                ? html`<dt>Answered</dt>
                    <dd>${who(session.decidedBy ?? '')}, ${zonedTime(session.decidedAt, zone)}</dd>`
                : ''
            }
            ${
              session.uploadedAt
                ? html`<dt>Uploaded</dt>
                    <dd>${zonedTime(session.uploadedAt, zone)}</dd>`
                : ''
            }
          </dl>
          <p class="legend">
            The device uploads once, only what is listed, and only while your consent lasts; you can withdraw it at any time.
          </p>
        </section>
        ${decision}
        <p><a href="/portal/support">All requests</a></p>`,
    });
  };

  app.get('/portal/support/:id', async (request, reply) => {
    const user = requireRole(request, reply, true);
    if (!user) return;
    const zone = (await customerOf(store, user.customer!)).timezone;
    return sessionPage(request, reply, await ownSession(user.customer!, (request.params as { id: string }).id), zone);
  });

  app.post('/portal/support/:id/:decision', async (request, reply) => {
    const user = requireRole(request, reply, true);
    if (!user) return;
    const { id, decision } = request.params as { id: string; decision: string };
    if (!['consent', 'refuse', 'withdraw'].includes(decision)) throw new SluiceError('not_found', 'Unknown action.');
    const event = decision as 'consent' | 'refuse' | 'withdraw';
    const hours = Number(formValues(request.body).hours ?? defaultConsentHours);
    if (event === 'consent' && !durations.includes(hours))
      throw new SluiceError('validation_failed', 'Choose how long the consent lasts from the list.');
    await decideSession(context, id, user.customer!, event, actorOf(principalOf(user)), event === 'consent' ? hours : undefined);
    return reply.redirect(`/portal/support/${id}?done=${event}`, 303);
  });
}
