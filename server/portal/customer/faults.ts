// The customer's faults: report one (the class explained where it is picked), then each
// fault's due times in the customer's zone with countdowns, breaches in words, resolutions.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../html.js';
import { statusBadge } from '../layout.js';
import { principalOf } from '../sessions.js';
import { csrfField, doneFlash, formError, formValues, sendPage, typed, type FormState } from '../kit.js';
import { dataTable } from '../table.js';
import { acknowledgeCell, classList, classOptions, clockNote, questionList, resolveCell } from '../fault-parts.js';
import { answerQuestion } from '../../services/fault-questions.js';
import { customerOf, requireRole } from '../customer-pages.js';
import { actorOf } from '../../auth/principal.js';
import { SluiceError } from '../../errors.js';
import { faultViews, openFault } from '../../services/faults.js';
import { parseFaultClass } from '../../domain/faults.js';
import { contractTerms } from '../../domain/contract-terms.js';

const flashes = {
  reported: 'Your fault report was received. The due times are shown below.',
  answered: 'Thank you: your answer was sent, and the clock runs again.',
};

/** The form under a question that waits for the customer's answer. */
function answerForm(request: FastifyRequest, fault: string, question: string, state: FormState | null) {
  const form = `answer-${question}`;
  return html`${formError(state, form)}
    <form method="post" action="/portal/faults/${fault}/questions/${question}/answer">
      ${csrfField(request)} <label for="${form}">Your answer</label
      ><textarea id="${form}" name="answer" rows="3" required maxlength="20000">${typed(state, form, 'answer')}</textarea>
      <button type="submit">Answer</button>
    </form>`;
}

export default async function customerFaultPages(app: FastifyInstance) {
  const context = app.sluice;
  const { store, options } = context;

  const faultsPage = async (request: FastifyRequest, reply: FastifyReply, state: FormState | null = null) => {
    const user = request.portal!.user;
    const zone = (await customerOf(store, user.customer!)).timezone;
    const now = options.now();
    const faults = await faultViews(context, await store.faults.list({ customer: user.customer!, limit: 1000 }), now);
    const devices = await store.devices.list({ customer: user.customer! });
    // The classes explained by the customer's own contract terms.
    const terms = contractTerms((await store.customers.contractTerms([user.customer!])).get(user.customer!));
    const rows = faults.map((fault) => ({
      className: fault.breached ? 'breached' : '',
      cells: [
        html`<strong>${fault.id}</strong>: ${fault.title}${fault.device ? html`<div class="legend">device ${fault.device}</div>` : ''}
          ${questionList(fault, zone, (question) => answerForm(request, fault.id, question, state))}`,
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
                ${classOptions(typed(state, 'report', 'class', 'C'), terms)}
              </select>
              <div id="class-help">${classList(terms)}</div>
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

  app.post('/portal/faults/:id/questions/:question/answer', async (request, reply) => {
    const user = requireRole(request, reply, true);
    if (!user) return;
    const { id, question } = request.params as { id: string; question: string };
    const fault = await store.faults.get(id);
    // Another customer's fault is not there for this one.
    if (!fault || fault.customer !== user.customer) throw new SluiceError('not_found', 'There is no such fault.');
    const values = formValues(request.body, 20000);
    const answer = (values.answer ?? '').trim();
    const form = `answer-${question}`;
    if (!answer) return faultsPage(request, reply, { form, message: 'Write your answer to the question.', values });
    try {
      await answerQuestion(context, fault, question, answer, actorOf(principalOf(user)));
    } catch (error) {
      if (error instanceof SluiceError && error.code === 'conflict')
        return faultsPage(request, reply, { form, message: 'This question was answered already.', values });
      throw error;
    }
    return reply.redirect('/portal/faults?done=answered', 303);
  });
}
