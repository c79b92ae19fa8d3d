// "Poll sooner before the window" (server/domain/polling.ts): one rule for the check-in and
// the DDI controller base.
import t from 'tap';
import { pollAfterSeconds } from '../../server/domain/polling.js';

const now = new Date('2027-01-10T00:58:00Z');
const at = (iso: string) => new Date(iso);

t.test('the next poll comes no later than the window of an install waiting for it', async (t) => {
  const table: [Parameters<typeof pollAfterSeconds>[0], number, string][] = [
    [{ baseSeconds: 300, window: null, now }, 300, 'nothing assigned: the usual interval'],
    [{ baseSeconds: 300, now }, 300, 'no window given'],
    [
      { baseSeconds: 300, window: { start: at('2027-01-10T01:00:00Z') }, installAllowed: false, now },
      120,
      'two minutes before the window: in two minutes',
    ],
    [{ baseSeconds: 300, window: { start: '2027-01-10T01:00:00.000Z' }, now }, 120, 'the start as ISO text'],
    [{ baseSeconds: 60, window: { start: at('2027-01-10T01:00:00Z') }, now }, 60, 'a window further off than the interval: the interval'],
    [
      { baseSeconds: 300, window: { start: at('2027-01-10T00:58:00.400Z') }, now },
      1,
      'a start less than a second away: one second, never zero',
    ],
    [{ baseSeconds: 300, window: { start: at('2027-01-10T00:50:00Z') }, now }, 300, 'a window already open: the interval'],
    [{ baseSeconds: 300, window: { start: at('2027-01-10T01:00:00Z') }, installAllowed: true, now }, 300, 'installing now: no hurry'],
    [{ baseSeconds: 300, window: { start: 'not a date' }, now }, 300, 'an unreadable start: the interval'],
  ];
  for (const [input, expected, why] of table) t.equal(pollAfterSeconds(input), expected, why);
});
