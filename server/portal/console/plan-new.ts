// Drafting an upgrade plan from a release for a customer: devices picked from the customer's
// fleet (those the release does not fit shown and not selectable), windows in the customer's
// zone with a preview of the next occurrences, a canary wave, the deadline with the one-month
// default shown, and notes to the customer kept apart from internal notes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../html.js';
import { csrfField, formError, formList, formValues, requireStaff, sendPage, typed, type FormState } from '../kit.js';
import { principalOf } from '../sessions.js';
import { localTime, zonedTime } from '../time.js';
import { occurrencePreview } from '../plan-parts.js';
import { windowErrorText } from '../window-errors.js';
import { windowsEditor, windowsFromForm } from './windows-editor.js';
import { actorOf } from '../../auth/principal.js';
import { SluiceError } from '../../errors.js';
import type { Customer, Release } from '../../storage/repositories/records.js';
import { createPlan } from '../../services/plans.js';
import { defaultDeadline } from '../../domain/plans.js';
import { resolveLocalTime, validateWindow } from '../../domain/windows.js';
import { releaseMisfit } from '../../domain/release-fit.js';
import type { WaveSpec } from '../../domain/waves.js';

/** The waves the form describes: an optional canary of N devices, then everything else. */
export function wavesFromForm(values: Record<string, string>): WaveSpec[] | undefined {
  const canary = Number(values.canary_count || 0);
  if (!Number.isInteger(canary) || canary <= 0) return undefined;
  const failures = Number(values.canary_failures || 0);
  return [
    { name: 'Canary', count: canary, failureLimit: { count: Number.isInteger(failures) && failures >= 0 ? failures : 0 } },
    { name: 'Everything else', percent: 100 },
  ];
}

export default async function planNewPages(app: FastifyInstance) {
  const context = app.sluice;
  const { store, options } = context;

  const draftPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    release: Release,
    customer: Customer | undefined,
    state: FormState | null,
    preview = false,
  ) => {
    const customers = await store.customers.list();
    const picker = html`<form method="get" action="/staff/plans/new" class="filters">
      <input type="hidden" name="release" value="${release.id}" />
      <div>
        <label for="pick-customer">Customer</label
        ><select id="pick-customer" name="customer">
          ${customers.map((candidate) => html`<option value="${candidate.id}" ${candidate.id === customer?.id ? html` selected` : ''}>${candidate.name} (${candidate.timezone})</option>`)}
        </select>
      </div>
      <button class="secondary" type="submit">Choose</button>
    </form>`;
    if (!customer) {
      return sendPage(request, reply, {
        title: 'Draft a plan',
        section: '/staff/plans',
        body: html`<h1>Draft a plan for ${release.product} ${release.version}</h1>
          ${picker}`,
      });
    }
    const zone = customer.timezone;
    const now = options.now();
    const fleet = await store.devices.list({ customer: customer.id, product: release.product });
    const chosen = state ? new Set(typed(state, 'draft', 'devices').split('\n')) : null;
    const deadline = defaultDeadline(release.publishedAt);
    const previewBlock =
      preview && state
        ? (() => {
            try {
              const windows = windowsFromForm(state.body, state.values, zone).map((window) => validateWindow(window));
              return html`<section class="card" aria-labelledby="preview-title">
                <h2 id="preview-title">Next occurrences</h2>
                ${occurrencePreview(windows, now, deadlineOf(state.values, zone, deadline), zone)}
              </section>`;
            } catch (error) {
              return html`<div class="flash error" role="alert">
                ${windowErrorText(error, { zone, deadline, now }) ?? (error as Error).message}
              </div>`;
            }
          })()
        : html``;
    return sendPage(
      request,
      reply,
      {
        title: 'Draft a plan',
        section: '/staff/plans',
        body: html`<h1>Draft a plan for ${release.product} ${release.version}</h1>
          ${picker} ${formError(state, 'draft')}${previewBlock}
          <form method="post" action="/staff/plans">
            ${csrfField(request)}<input type="hidden" name="release" value="${release.id}" /><input
              type="hidden"
              name="customer"
              value="${customer.id}"
            />
            <section class="card">
              <h2>Devices</h2>
              <p class="legend">${customer.name}'s ${release.product} devices. Those the release does not fit cannot be picked.</p>
              ${
                fleet.length
                  ? fleet.map((device) => {
                      const misfit = releaseMisfit(release.manifest.signed, device);
                      const checked = !misfit && (chosen ? chosen.has(device.id) : true);
                      return html`<label class="choice"
                        ><input
                          type="checkbox"
                          name="devices"
                          value="${device.id}"
                          ${checked ? html` checked` : ''}${misfit ? html` disabled` : ''}
                        />
                        ${device.id}
                        <span class="legend">${device.hardware}, ${device.version}${misfit ? ` — ${misfit.message}` : ''}</span></label
                      >`;
                    })
                  : html`<p class="field-error">This customer has no ${release.product} devices.</p>`
              }
            </section>
            <section class="card">
              <h2>Maintenance windows</h2>
              ${windowsEditor(state, 'draft', zone)}
            </section>
            <section class="card">
              <h2>Waves</h2>
              <div class="inline">
                <div>
                  <label for="canary-count">Canary wave: devices (empty: one wave of everything)</label
                  ><input id="canary-count" name="canary_count" type="number" min="1" value="${typed(state, 'draft', 'canary_count')}" />
                </div>
                <div>
                  <label for="canary-failures">Failures that pause the plan</label
                  ><input
                    id="canary-failures"
                    name="canary_failures"
                    type="number"
                    min="0"
                    value="${typed(state, 'draft', 'canary_failures', '0')}"
                  />
                </div>
              </div>
            </section>
            <section class="card">
              <h2>Deadline</h2>
              <label for="deadline">Deadline (${zone}; empty: the contract's default)</label
              ><input
                id="deadline"
                name="deadline"
                type="datetime-local"
                value="${typed(state, 'draft', 'deadline')}"
                aria-describedby="deadline-help"
              />
              <p id="deadline-help" class="legend">Default: one month after the release was published, ${zonedTime(deadline, zone)}.</p>
            </section>
            <section class="card">
              <h2>Notes</h2>
              <label for="notes">Notes to the customer (in the written plan)</label
              ><textarea id="notes" name="notes" rows="3" maxlength="20000">${typed(state, 'draft', 'notes')}</textarea>
              <label for="internal-notes">Internal notes (vendor only, never shown to the customer)</label
              ><textarea id="internal-notes" name="internalNotes" rows="3" maxlength="20000">
${typed(state, 'draft', 'internalNotes')}</textarea>
            </section>
            <div class="actions">
              <button type="submit" name="action" value="preview" class="secondary">Preview the windows</button
              ><button type="submit" name="action" value="draft">Save the draft</button>
            </div>
          </form>
          <p class="legend">It is now ${localTime(now, zone)} in ${zone}.</p>`,
      },
      state && !preview ? 422 : 200,
    );
  };

  app.get('/staff/plans/new', async (request, reply) => {
    if (!requireStaff(request, reply)) return;
    const query = request.query as { release?: string; customer?: string };
    const release = query.release ? await store.releases.get(query.release) : undefined;
    if (!release) {
      const releases = (await store.releases.list()).filter((candidate) => !candidate.yankedAt);
      return sendPage(request, reply, {
        title: 'Draft a plan',
        section: '/staff/plans',
        body: html`<h1>Draft a plan</h1>
          <form method="get" action="/staff/plans/new" class="filters">
            <div>
              <label for="pick-release">Release</label
              ><select id="pick-release" name="release">
                ${releases.map((candidate) => html`<option value="${candidate.id}">${candidate.product} ${candidate.version}</option>`)}
              </select>
            </div>
            <button type="submit">Next</button>
          </form>`,
      });
    }
    const customer = query.customer ? await store.customers.get(query.customer) : undefined;
    return draftPage(request, reply, release, customer, null);
  });

  app.post('/staff/plans', async (request, reply) => {
    const user = requireStaff(request, reply);
    if (!user) return;
    const values = formValues(request.body);
    const release = await store.releases.get(values.release ?? '');
    const customer = await store.customers.get(values.customer ?? '');
    if (!release || !customer) throw new SluiceError('validation_failed', 'Choose a release and a customer.');
    const zone = customer.timezone;
    const state: FormState = { form: 'draft', message: '', values, body: request.body };
    const windows = windowsFromForm(request.body, values, zone);
    if (values.action === 'preview') return draftPage(request, reply, release, customer, state, true);
    const refuse = (message: string) => draftPage(request, reply, release, customer, { ...state, message });
    if (windows.length === 0) return refuse('Give at least one window: a one-off start and end, or days and a start time.');
    const devices = formList(request.body, 'devices');
    if (devices.length === 0) return refuse('Pick at least one device.');
    const fallback = defaultDeadline(release.publishedAt);
    let plan;
    try {
      plan = await createPlan(
        context,
        {
          customer: customer.id,
          release: release.id,
          devices,
          windows,
          waves: wavesFromForm(values),
          deadline: values.deadline ? deadlineOf(values, zone, fallback).toISOString() : undefined,
          notes: (values.notes ?? '').trim(),
          internalNotes: (values.internalNotes ?? '').trim() || undefined,
        },
        actorOf(principalOf(user)),
      );
    } catch (error) {
      const text = windowErrorText(error, {
        zone,
        deadline: values.deadline ? deadlineOf(values, zone, fallback) : fallback,
        now: options.now(),
        windows,
      });
      if (text === null && !(error instanceof SluiceError && error.status < 500)) throw error;
      return refuse(text ?? (error as Error).message);
    }
    return reply.redirect(`/staff/plans/${plan.id}?done=drafted`, 303);
  });
}

/** The deadline typed in the customer's zone, or the default when it is empty or unreadable. */
function deadlineOf(values: Record<string, string>, zone: string, fallback: Date): Date {
  if (!values.deadline) return fallback;
  try {
    return resolveLocalTime(values.deadline.slice(0, 16), zone);
  } catch {
    return fallback;
  }
}
