// The one way a lifecycle takes a step: find the row of its transition table, or refuse with
// `illegal_transition` naming the current state (plans, faults, support sessions).
import { SluiceError } from '../errors.js';

export interface TransitionRow<State extends string, Event extends string> {
  from: State;
  event: Event;
  to: State;
}

export function takeTransition<State extends string, Event extends string, Row extends TransitionRow<State, Event>>(
  table: readonly Row[],
  noun: string,
  from: State,
  event: Event,
  accept: (row: Row) => boolean = () => true,
): Row {
  const row = table.find((candidate) => candidate.from === from && candidate.event === event && accept(candidate));
  if (!row) throw new SluiceError('illegal_transition', `cannot ${event.replaceAll('_', ' ')} a ${noun} that is ${from}`, { status: from });
  return row;
}
