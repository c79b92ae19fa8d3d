// One list of agent states for the agent and the server (client/states.ts): what the server
// reads into a plan's progress, its waves and its concurrency cap is the agent's own machine.
import t from 'tap';
import { agentStates, agentTransitions, finishedStates, failedStates, installingStates } from '../../client/states.js';

t.test("the server's sets are made of the agent's states and agree with its transitions", async (t) => {
  for (const [name, set] of [
    ['finished', finishedStates],
    ['failed', failedStates],
    ['installing', installingStates],
  ] as const) {
    t.ok(
      [...set].every((state) => (agentStates as readonly string[]).includes(state)),
      `${name} states are agent states`,
    );
  }
  t.ok(
    [...failedStates].every((state) => finishedStates.has(state)),
    'a failed update is a finished one',
  );
  t.same(
    [...finishedStates].filter((state) => !failedStates.has(state)),
    ['committed'],
    'committed is the one success',
  );
  t.ok(
    [...installingStates].every((state) => !finishedStates.has(state)),
    'a device holding an install slot has not finished',
  );
  for (const state of finishedStates) {
    t.same(
      agentTransitions.filter((row) => row.from === state).map((row) => row.to),
      ['idle'],
      `${state}: only back to idle`,
    );
  }
  const intoInstall = agentTransitions
    .filter((row) => installingStates.has(row.to) && !installingStates.has(row.from))
    .map((row) => row.from);
  t.same(intoInstall, ['waiting_window'], 'an install slot is taken only from waiting for the window');
});
