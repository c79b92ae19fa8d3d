// The agent's transition table and recovery table (DESIGN.md, "Device agent"; STYLE.md,
// Mender's initState), walked row by row, every illegal pair tried.
import t from 'tap';
import {
  agentStates,
  agentTransitions,
  canTransition,
  recoveryTable,
  giveUpState,
  maximumAttempts,
  type AgentState,
} from '../../client/states.js';

t.test('the happy path of DESIGN.md is a chain of legal transitions', async (t) => {
  const path: AgentState[] = [
    'idle',
    'downloading',
    'downloaded',
    'verified',
    'staged',
    'waiting_window',
    'installing',
    'health_check',
    'committed',
    'idle',
  ];
  for (let index = 1; index < path.length; index++)
    t.ok(canTransition(path[index - 1], path[index]), `${path[index - 1]} → ${path[index]}`);
  t.ok(canTransition('health_check', 'rolling_back'));
  t.ok(canTransition('rolling_back', 'rolled_back'));
  t.ok(canTransition('rolled_back', 'idle'));
});

t.test('every row names known states, and no row appears twice', async (t) => {
  const seen = new Set<string>();
  for (const row of agentTransitions) {
    t.ok(agentStates.includes(row.from) && agentStates.includes(row.to), `${row.from} → ${row.to}`);
    t.notOk(seen.has(`${row.from}>${row.to}`), `${row.from} → ${row.to} once`);
    seen.add(`${row.from}>${row.to}`);
  }
});

t.test('every pair not in the table is illegal', async (t) => {
  // The ones that matter most, named: no way into the new slot without installing and checking
  // it, no commit without a health check, no rollback once committed.
  const mustBeIllegal: [AgentState, AgentState][] = [
    ['idle', 'installing'],
    ['downloading', 'installing'],
    ['downloaded', 'staged'],
    ['staged', 'installing'],
    ['installing', 'committed'],
    ['waiting_window', 'committed'],
    ['committed', 'rolling_back'],
    ['rolled_back', 'committed'],
    ['health_check', 'failed'],
    ['rolling_back', 'failed'],
    ['rolling_back', 'committed'],
    ['failed', 'installing'],
  ];
  for (const [from, to] of mustBeIllegal) t.notOk(canTransition(from, to), `${from} → ${to} is refused`);
  const legal = new Set(agentTransitions.map((row) => `${row.from}>${row.to}`));
  let illegal = 0;
  for (const from of agentStates)
    for (const to of agentStates) {
      if (!legal.has(`${from}>${to}`)) {
        illegal++;
        if (canTransition(from, to)) t.fail(`${from} → ${to} should be illegal`);
      }
    }
  t.equal(illegal, agentStates.length ** 2 - legal.size, `${illegal} illegal pairs all refused`);
});

t.test('a state that is not finished can always fail safe', async (t) => {
  // Before the switch: failed keeps the old slot. After it: rolling_back returns to it.
  for (const state of agentStates) {
    if (['idle', 'committed', 'rolled_back', 'failed'].includes(state)) continue;
    const afterSwitch = state === 'health_check' || state === 'rolling_back';
    t.ok(
      afterSwitch ? canTransition(state, 'rolling_back') || state === 'rolling_back' : canTransition(state, 'failed'),
      `${state} has a safe way out`,
    );
  }
});

t.test('the recovery table, row by row', async (t) => {
  const expected: Record<AgentState, AgentState> = {
    idle: 'idle',
    downloading: 'downloading', // resume the download with Range
    downloaded: 'downloaded', // verify again
    verified: 'verified', // stage again (idempotent)
    staged: 'staged',
    waiting_window: 'waiting_window',
    installing: 'waiting_window', // the inactive slot is suspect: install again, inside the window
    health_check: 'health_check', // check the uncommitted new slot again
    committed: 'committed', // report, then idle
    rolling_back: 'rolling_back', // finish the switch back
    rolled_back: 'rolled_back',
    failed: 'failed',
  };
  t.same(Object.keys(recoveryTable).sort(), [...agentStates].sort(), 'one row per state');
  for (const state of agentStates) {
    t.equal(recoveryTable[state].resume, expected[state], `${state} resumes in ${expected[state]}: ${recoveryTable[state].why}`);
    const resume = recoveryTable[state].resume;
    t.ok(
      resume === state || canTransition(state, resume) || (state === 'installing' && resume === 'waiting_window'),
      `${state} → ${resume} keeps the device on one side of the switch`,
    );
  }
});

t.test('the loop counter gives up on the safe side of the switch', async (t) => {
  t.ok(maximumAttempts >= 2 && maximumAttempts <= 10, `${maximumAttempts} attempts`);
  for (const state of ['downloading', 'downloaded', 'verified', 'staged', 'waiting_window', 'installing'] as const)
    t.equal(giveUpState(state), 'failed', `${state} gives up as failed (old slot active)`);
  for (const state of ['health_check', 'rolling_back'] as const)
    t.equal(giveUpState(state), 'rolling_back', `${state} gives up by rolling back (new slot uncommitted)`);
});
