// A fault's clocks as both sides read them: due times in the reader's zone with the zone
// named, "due in" / "overdue by" against now, breaches in words as well as colour, and each
// class explained from the domain's own clock table.
import { html, type Html } from './html.js';
import { dueText, span, zonedTime } from './time.js';
import { faultClasses, resolveWithin, type FaultClass } from '../domain/faults.js';
import { defaultContractTerms, type ContractTerms } from '../domain/contract-terms.js';
import type { FaultView } from '../services/faults.js';

/** "processing starts within 15 min; resolved within 1 h (major) or 2 h (general)", by the customer's terms. */
export function classExplanation(faultClass: FaultClass, terms: ContractTerms = defaultContractTerms): string {
  const resolve = resolveWithin[faultClass];
  const resolution = resolve
    ? `resolved within ${span(resolve.major)} (major) or ${span(resolve.general)} (general), around the clock`
    : 'may be fixed by a later release';
  return `processing starts within ${span(terms[faultClass].acknowledgeMinutes * 60_000)}; ${resolution}`;
}

const classNames: Record<FaultClass, string> = { A: 'critical', B: 'major', C: 'minor', D: 'question' };

export const classOptions = (selected: string, terms: ContractTerms = defaultContractTerms): Html =>
  html`${faultClasses.map((name) => html`<option value="${name}" ${name === selected ? html` selected` : ''}>${name} (${classNames[name]}): ${classExplanation(name, terms)}</option>`)}`;

export const classList = (terms: ContractTerms = defaultContractTerms): Html =>
  html`<ul class="legend">
    ${faultClasses.map((name) => html`<li><strong>${name}</strong> (${classNames[name]}): ${classExplanation(name, terms)}</li>`)}
  </ul>`;

/** Processing start: done (on time or late) or due, with the countdown. */
export function acknowledgeCell(fault: FaultView, now: Date, zone: string): Html {
  if (fault.acknowledgedAt) {
    return html`${zonedTime(fault.acknowledgedAt, zone)}
      <div class="${fault.breaches.acknowledge ? 'breached' : 'pill-ok'}">
        ${fault.breaches.acknowledge ? 'started late: clock breached' : 'started in time'}
      </div>`;
  }
  if (fault.resolvedAt) return html`<span class="muted">resolved without a separate start</span>`;
  const due = dueWithClock(fault, fault.clock.acknowledge, fault.due.acknowledgeBy, now);
  return html`by ${zonedTime(fault.due.acknowledgeBy, zone)}
    <div class="${due.overdue ? 'breached' : ''}">${due.text}${due.overdue ? ': clock breached' : ''}</div>`;
}

/** Resolution: the resolution text once resolved; otherwise due (A, B) or "a later release" (C, D). */
export function resolveCell(fault: FaultView, now: Date, zone: string): Html {
  if (fault.resolvedAt) {
    return html`${zonedTime(fault.resolvedAt, zone)}
      <div class="${fault.breaches.resolve ? 'breached' : 'pill-ok'}">
        ${fault.breaches.resolve ? 'resolved late: clock breached' : 'resolved in time'}
      </div>
      ${fault.resolution ? html`<div>${fault.resolution}</div>` : ''}`;
  }
  if (!fault.due.resolveBy)
    return html`<span class="muted">may be fixed by a later release</span>${fault.fixRelease ? html`<div>fix available</div>` : ''}`;
  const due = dueWithClock(fault, fault.clock.resolve, fault.due.resolveBy, now);
  return html`by ${zonedTime(fault.due.resolveBy, zone)}
    <div class="${due.overdue ? 'breached' : ''}">${due.text}${due.overdue ? ': clock breached' : ''}</div>`;
}

/** How the fault's clocks count (server/domain/fault-clock.ts): service hours or around the clock, and time paused. */
export function clockNote(fault: FaultView): Html {
  const parts = [fault.clock.serviceHours ? 'the clock counts service hours only' : 'the clock runs around the clock'];
  if (fault.clock.paused) parts.push('paused now: waiting on the customer');
  if (fault.clock.pausedSeconds > 0) parts.push(`paused ${span(fault.clock.pausedSeconds * 1000)} in all`);
  return html`<div class="legend">${parts.join(' · ')}</div>`;
}

/**
 * The questions staff asked on the fault and their answers; a question still waiting says the
 * clock is paused for it, and gets `answerForm` where the reader may answer (the customer).
 */
export function questionList(fault: FaultView, zone: string, answerForm?: (question: string) => Html): Html {
  if (fault.questions.length === 0) return html``;
  return html`<ul class="questions">
    ${fault.questions.map(
      (question) =>
        html`<li>
          <strong>Question</strong> from ${question.askedBy.replace(/^user:/, '')}, ${zonedTime(question.askedAt, zone)}: ${question.text}
          ${
            question.answeredAt
              ? html`<div>
                  Answered by ${(question.answeredBy ?? '').replace(/^user:/, '')}, ${zonedTime(question.answeredAt, zone)}:
                  ${question.answer}
                </div>`
              : html`<div class="overdue">Waiting for the customer's answer: the clock is paused.</div>
                  ${answerForm ? answerForm(question.id) : ''}`
          }
        </li>`,
    )}
  </ul>`;
}

/** "due in 12 min", and for a service-hours clock the service time left: "(service hours: 40 min left)". */
function dueWithClock(fault: FaultView, clock: FaultView['clock']['acknowledge'] | null | undefined, dueAt: string, now: Date) {
  const due = dueText(dueAt, now);
  const left =
    fault.clock.serviceHours && clock && clock.remainingSeconds !== null && !due.overdue
      ? ` (service hours: ${span(clock.remainingSeconds * 1000)} left)`
      : '';
  return { ...due, text: `${due.text}${left}` };
}
