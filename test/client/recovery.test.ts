// The recovery table at work (STYLE.md, Mender's initState): the agent is abandoned right
// after persisting each state and a new one started on the same data directory, as after a
// power loss; it resumes where the table says and ends on the old version or on the new,
// committed one. A state that keeps coming back gives up cleanly (the loop counter). The same
// with real processes and SIGKILL: crash-recovery.test.ts and process.test.ts.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { signDocument } from '../../signing/signed.js';
import { recoveryTable, maximumAttempts, type AgentState } from '../../client/states.js';
import type { HookResult } from '../../client/hooks.js';
import { runHook } from '../../client/hooks.js';
import { startFakeServer, throwAwayTrust, manifestFor } from './helpers/fake-server.js';
import { makeDevice, manualClock, startAgent, stepUntil, slotFiles } from './helpers/device.js';

const artifact = randomBytes(200 * 1024);
const hour = 3600_000;

async function setup(t: Test, healthExit = 0) {
  const trust = throwAwayTrust();
  const clock = manualClock(new Date());
  const server = await startFakeServer({ keys: trust.keys, now: clock.now });
  t.teardown(server.close);
  server.script.offer = {
    id: 'a1',
    manifest: signDocument(manifestFor(artifact), [trust.keys.release]),
    bytes: artifact,
    installAllowed: true,
    downgrade: false,
    window: { start: new Date(clock.now().getTime() - hour).toISOString(), end: new Date(clock.now().getTime() + 3 * hour).toISOString() },
  };
  const device = makeDevice(t, { server: server.url, rootDocument: trust.rootDocument, healthExit });
  return { clock, server, device };
}

const toCommit: AgentState[] = [
  'downloading',
  'downloaded',
  'verified',
  'staged',
  'waiting_window',
  'installing',
  'health_check',
  'committed',
];

for (const crashState of toCommit) {
  t.test(`power lost right after entering ${crashState}: resumes in ${recoveryTable[crashState].resume}, ends committed`, async (t) => {
    const { clock, server, device } = await setup(t);
    const first = startAgent(device, { now: clock.now });
    await stepUntil(first, (agent) => agent.state.journal.state === crashState);
    const second = startAgent(device, { now: clock.now }); // the first is never stepped again
    t.equal(second.state.journal.state, recoveryTable[crashState].resume, 'the recovery table row');
    await stepUntil(second, (agent) => agent.state.journal.state === 'idle' && agent.state.device.version === '2.0.0');
    t.same(second.state.device, { version: '2.0.0', activeSlot: 'b' });
    t.ok(slotFiles(device, 'b')?.equals(artifact), 'the new slot holds the whole image');
    t.equal(server.seen.recorded.filter((event) => event.state === 'committed').length, 1, 'committed recorded once');
    t.same(
      server.states().filter((state, index, all) => all.indexOf(state) === index),
      toCommit,
      'every state reported, in order',
    );
  });
}

for (const crashState of ['health_check', 'rolling_back', 'rolled_back'] as AgentState[]) {
  t.test(`power lost right after entering ${crashState} of a failing update: ends on the old version`, async (t) => {
    const { clock, server, device } = await setup(t, 1);
    const first = startAgent(device, { now: clock.now });
    await stepUntil(first, (agent) => agent.state.journal.state === crashState);
    const second = startAgent(device, { now: clock.now });
    t.equal(second.state.journal.state, recoveryTable[crashState].resume);
    await stepUntil(second, (agent) => agent.state.journal.state === 'idle');
    t.same(second.state.device, { version: '1.0.0', activeSlot: 'a' });
    t.equal(server.seen.recorded.filter((event) => event.state === 'rolled_back').length, 1, 'rolled_back recorded once');
  });
}

/** A hook that never returns: the device loses power while it runs. */
const neverReturns = (): Promise<HookResult> => new Promise(() => {});

t.test('loop counter: a device that keeps dying during the install gives up, on the old slot', async (t) => {
  const { clock, server, device } = await setup(t);
  let agent = startAgent(device, { now: clock.now, runHook: neverReturns });
  await stepUntil(agent, (a) => a.state.journal.state === 'installing');
  let restarts = 0;
  for (; restarts < maximumAttempts * 3 && agent.state.journal.state !== 'failed' && agent.state.journal.state !== 'idle'; restarts++) {
    void agent.step(); // dies inside the install hook
    await new Promise((resolve) => setImmediate(resolve));
    agent = startAgent(device, { now: clock.now, runHook: neverReturns });
    if (agent.state.journal.state === 'waiting_window')
      await stepUntil(agent, (a) => a.state.journal.state === 'installing' || a.state.journal.state === 'failed');
  }
  t.ok(restarts <= maximumAttempts + 1, `gave up after ${restarts} restarts`);
  await stepUntil(agent, (a) => a.state.journal.state === 'idle');
  t.same(agent.state.device, { version: '1.0.0', activeSlot: 'a' });
  t.match(server.seen.recorded.at(-1), { state: 'failed', detail: /^too_many_attempts/ });
});

t.test('loop counter: a device that keeps dying during the health check rolls back', async (t) => {
  const { clock, server, device } = await setup(t);
  const healthNeverReturns = (command: string[], environment: Record<string, string>, timeoutSeconds: number) =>
    command[0].endsWith('health.sh') ? neverReturns() : runHook(command, environment, timeoutSeconds);
  let agent = startAgent(device, { now: clock.now, runHook: healthNeverReturns });
  await stepUntil(agent, (a) => a.state.journal.state === 'health_check');
  t.equal(agent.state.device.activeSlot, 'b', 'switched, not committed');
  let restarts = 0;
  for (; restarts < maximumAttempts * 3 && agent.state.journal.state === 'health_check'; restarts++) {
    void agent.step();
    await new Promise((resolve) => setImmediate(resolve));
    agent = startAgent(device, { now: clock.now, runHook: healthNeverReturns });
  }
  t.equal(restarts, maximumAttempts, `gave up after ${restarts} restarts`);
  await stepUntil(agent, (a) => a.state.journal.state === 'idle');
  t.same(agent.state.device, { version: '1.0.0', activeSlot: 'a' }, 'back on the old slot and version');
  t.match(
    server.seen.recorded.find((event) => event.state === 'rolling_back'),
    { detail: /^too_many_attempts/ },
  );
  t.ok(server.states().includes('rolled_back'));
});
