// The agent's loop in this process against the fake server on a real socket, with the clock
// in the test's hands (DESIGN.md, "Device agent" and "Maintenance windows"): it stages before
// the window, waits outside it, installs inside it when the install still fits, commits; a
// failing or hanging health check rolls back; cancelled plans are dropped; backoff is capped.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { signDocument } from '../../signing/signed.js';
import { readStateFile } from '../../client/state-file.js';
import { startFakeServer, throwAwayTrust, manifestFor, type Offer } from './helpers/fake-server.js';
import { makeDevice, manualClock, startAgent, stepUntil, slotFiles } from './helpers/device.js';

const artifact = randomBytes(256 * 1024);
const hour = 3600_000;

async function setup(t: Test, options: { healthExit?: number; overrides?: Record<string, unknown>; offer?: Partial<Offer> } = {}) {
  const trust = throwAwayTrust();
  const clock = manualClock(new Date());
  const server = await startFakeServer({ keys: trust.keys, now: clock.now });
  t.teardown(server.close);
  const at = (offset: number) => new Date(clock.now().getTime() + offset).toISOString();
  server.script.offer = {
    id: 'a1',
    manifest: signDocument(manifestFor(artifact), [trust.keys.release]),
    bytes: artifact,
    window: { start: at(hour), end: at(4 * hour) },
    installAllowed: false,
    downgrade: false,
    ...options.offer,
  };
  const device = makeDevice(t, {
    server: server.url,
    rootDocument: trust.rootDocument,
    healthExit: options.healthExit,
    overrides: options.overrides,
  });
  const agent = startAgent(device, { now: clock.now });
  return { trust, clock, server, device, agent, at };
}

const journalState = (agent: { state: { journal: { state: string } } }) => agent.state.journal.state;

t.test('stages before the window, waits outside it, installs inside it, commits', async (t) => {
  const { clock, server, device, agent, at } = await setup(t);
  await stepUntil(agent, (a) => journalState(a) === 'waiting_window');
  t.ok(
    existsSync(join(device.dataDir, 'staged')) && readdirSync(join(device.dataDir, 'staged')).length === 1,
    'the verified artifact is staged',
  );
  for (let poll = 0; poll < 3; poll++) {
    const delay = await agent.step();
    t.equal(journalState(agent), 'waiting_window', `poll ${poll}: still waiting`);
    t.ok(delay > 0 && delay <= 30_000 * 1.1, `poll ${poll}: next check-in in ${delay} ms (the server's pollAfterSeconds, with jitter)`);
  }
  t.equal(slotFiles(device, 'b'), null, 'nothing installed before the window');
  // The window opens: the server now allows it.
  clock.advance(hour + 1000);
  server.script.offer!.installAllowed = true;
  server.script.offer!.window = { start: at(-1000), end: at(3 * hour) };
  await stepUntil(agent, (a) => journalState(a) === 'idle');
  t.same(agent.state.device, { version: '2.0.0', activeSlot: 'b' });
  t.ok(slotFiles(device, 'b')?.equals(artifact), 'the inactive slot got the artifact, byte-identical');
  t.equal(readFileSync(join(device.slots.b, 'version'), 'utf8').trim(), '2.0.0', 'the hook saw SLUICE_VERSION');
  t.same(
    server.states(),
    ['downloading', 'downloaded', 'verified', 'staged', 'waiting_window', 'installing', 'health_check', 'committed'],
    'every transition reported, in order, once',
  );
  t.ok(
    server.seen.recorded.every((event) => event.assignment === 'a1'),
    'against the assignment',
  );
  t.equal(readdirSync(join(device.dataDir, 'staged')).length, 0, 'the staged copy is cleaned up');
  t.same(readStateFile(device.dataDir, '0.0.0').device, { version: '2.0.0', activeSlot: 'b' }, 'and that is what is on disk');
  server.seen.checkins.length = 0;
  await agent.step();
  t.match(server.seen.checkins[0], { version: '2.0.0', state: 'idle' }, 'the next check-in says the new version');
});

t.test('the device checks the window itself: installAllowed alone is not enough', async (t) => {
  const { clock, server, agent, at, device } = await setup(t, {
    overrides: { install: { command: ['./install.sh'], timeoutSeconds: 60, expectedSeconds: 1800 } },
  });
  await stepUntil(agent, (a) => journalState(a) === 'waiting_window');
  server.script.offer!.installAllowed = true;
  server.script.offer!.window = { start: at(10 * 60_000), end: at(2 * hour) }; // a wrong server clock: not open yet
  await agent.step();
  t.equal(journalState(agent), 'waiting_window', 'not before the window opens');
  server.script.offer!.window = { start: at(-hour), end: at(20 * 60_000) }; // open, but 20 min left < 30 min expected
  const delay = await agent.step();
  t.equal(journalState(agent), 'waiting_window', 'not when the expected duration no longer fits');
  t.ok(delay > 0);
  server.script.offer!.window = null;
  await agent.step();
  t.equal(journalState(agent), 'waiting_window', 'not without a window');
  clock.advance(1000);
  server.script.offer!.window = { start: at(-1000), end: at(31 * 60_000) };
  await stepUntil(agent, (a) => journalState(a) === 'idle');
  t.equal(agent.state.device.version, '2.0.0', 'installs once it fits');
  t.ok(slotFiles(device, 'b'));
});

t.test('a failing health check switches back to the old slot and reports it', async (t) => {
  const { server, device, agent } = await setup(t, {
    healthExit: 3,
    offer: {
      installAllowed: true,
      window: { start: new Date(Date.now() - hour).toISOString(), end: new Date(Date.now() + 3 * hour).toISOString() },
    },
  });
  await stepUntil(agent, (a) => journalState(a) === 'idle' && a.state.journal.detail !== null);
  t.same(agent.state.device, { version: '1.0.0', activeSlot: 'a' }, 'old version, old slot');
  t.same(server.states().slice(-3), ['health_check', 'rolling_back', 'rolled_back']);
  t.match(server.seen.recorded.find((event) => event.state === 'rolling_back')?.detail, /^health_failed: health says no/);
  t.match(server.seen.recorded.find((event) => event.state === 'rolled_back')?.detail, /^health_failed/);
  t.notOk(server.states().includes('committed'));
  t.equal(readStateFile(device.dataDir, '0.0.0').device.version, '1.0.0');
});

t.test('a hanging health check times out, its whole process group is killed, and it rolls back', async (t) => {
  const { server, device, agent } = await setup(t, {
    overrides: { health: { command: ['./health.sh'], timeoutSeconds: 1 } },
    offer: {
      installAllowed: true,
      window: { start: new Date(Date.now() - hour).toISOString(), end: new Date(Date.now() + 3 * hour).toISOString() },
    },
  });
  const pidFile = join(device.directory, 'grandchild.pid');
  writeFileSync(join(device.directory, 'health.sh'), `#!/bin/sh\nsleep 60 &\necho $! > "${pidFile}"\nwait\n`);
  chmodSync(join(device.directory, 'health.sh'), 0o755);
  const begun = Date.now();
  await stepUntil(agent, (a) => journalState(a) === 'idle' && a.state.journal.detail !== null);
  t.ok(Date.now() - begun < 10_000, `done in ${Date.now() - begun} ms: the timeout is kept even with a child holding the pipes`);
  t.match(server.seen.recorded.find((event) => event.state === 'rolled_back')?.detail, /^health_timeout/);
  t.same(agent.state.device, { version: '1.0.0', activeSlot: 'a' });
  const grandchild = Number(readFileSync(pidFile, 'utf8'));
  // Gone, or a zombie waiting to be reaped: either way no longer running (signals are asynchronous).
  const running = () => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${grandchild}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  for (let wait = 0; wait < 40 && running(); wait++) await new Promise((resolve) => setTimeout(resolve, 50));
  t.notOk(running(), `the hook's own child (${grandchild}) was killed with it`);
});

t.test('a failing install hook fails the update; the old slot stays active', async (t) => {
  const { server, device, agent } = await setup(t, {
    offer: {
      installAllowed: true,
      window: { start: new Date(Date.now() - hour).toISOString(), end: new Date(Date.now() + 3 * hour).toISOString() },
    },
  });
  writeFileSync(join(device.directory, 'install.sh'), '#!/bin/sh\necho "no space in slot" >&2\nexit 4\n');
  await stepUntil(agent, (a) => journalState(a) === 'idle' && a.state.journal.detail !== null);
  t.match(server.seen.recorded.at(-1), { state: 'failed', detail: /^install_failed: install hook exited 4: no space in slot/ });
  t.same(agent.state.device, { version: '1.0.0', activeSlot: 'a' });
});

t.test('a plan cancelled while waiting drops the staged update', async (t) => {
  const { server, device, agent } = await setup(t);
  await stepUntil(agent, (a) => journalState(a) === 'waiting_window');
  // The real server answers a cancelled plan's device with no assignment (protocol/checkin.ts).
  server.script.offer = null;
  await agent.step();
  t.equal(journalState(agent), 'idle');
  t.equal(readdirSync(join(device.dataDir, 'staged')).length, 0, 'the staged artifact is deleted');
  await agent.step();
  t.equal(journalState(agent), 'idle', 'a cancelled assignment is not started again');
  t.equal(slotFiles(device, 'b'), null);
  t.match(server.seen.recorded.at(-1), { state: 'idle', detail: /^cancelled/ });
});

t.test('an explicit, signed downgrade is installed; the same version is "up to date", silently', async (t) => {
  const window = { start: new Date(Date.now() - hour).toISOString(), end: new Date(Date.now() + 3 * hour).toISOString() };
  const { server, agent, trust } = await setup(t, { offer: { installAllowed: true, window, downgrade: true } });
  server.script.offer!.manifest = signDocument(manifestFor(artifact, { version: '0.9.0', downgrade: true, replaces: '>=1.0.0 <1.1.0' }), [
    trust.keys.release,
  ]);
  await stepUntil(agent, (a) => a.state.device.version === '0.9.0' && journalState(a) === 'idle');
  t.ok(server.states().includes('committed'), 'the plan and the release engineers both said downgrade');
  const events = server.seen.events.length;
  for (let poll = 0; poll < 3; poll++) await agent.step();
  t.equal(journalState(agent), 'idle', 'offered again once it runs 0.9.0: nothing to do');
  t.equal(server.seen.events.length, events, 'not installed again');

  const same = await setup(t, { offer: { installAllowed: true, window } });
  same.server.script.offer!.manifest = signDocument(manifestFor(artifact, { version: '1.0.0' }), [same.trust.keys.release]);
  t.equal(await same.agent.step(), 30_000);
  t.equal(journalState(same.agent), 'idle', 'already running it: nothing to do');
  t.same(same.server.seen.events, [], 'and nothing to report (the server may not have seen our commit yet)');
  t.same(same.server.seen.artifactRequests, []);
});

t.test('a signed downgrade is refused from a version outside the range it replaces', async (t) => {
  const window = { start: new Date(Date.now() - hour).toISOString(), end: new Date(Date.now() + 3 * hour).toISOString() };
  const { server, agent, trust, device } = await setup(t, { offer: { installAllowed: true, window, downgrade: true } });
  server.script.offer!.manifest = signDocument(manifestFor(artifact, { version: '0.9.0', downgrade: true, replaces: '>=3.0.0 <3.2.0' }), [
    trust.keys.release,
  ]);
  await stepUntil(agent, (a) => journalState(a) === 'idle' && server.seen.recorded.length > 0, 5);
  t.match(server.seen.recorded, [
    { state: 'failed', detail: /^replaces_mismatch: the release 0\.9\.0 replaces only >=3\.0\.0 <3\.2\.0; this device runs 1\.0\.0/ },
  ]);
  t.same(server.seen.artifactRequests, [], 'nothing downloaded');
  t.equal(slotFiles(device, 'b'), null);
});

t.test('a downgrade of the very version running is not installed, however often it is offered', async (t) => {
  const window = { start: new Date(Date.now() - hour).toISOString(), end: new Date(Date.now() + 3 * hour).toISOString() };
  const { server, agent, trust } = await setup(t, { offer: { installAllowed: true, window, downgrade: true } });
  server.script.offer!.manifest = signDocument(manifestFor(artifact, { version: '1.0.0', downgrade: true, replaces: '>=1.0.0' }), [
    trust.keys.release,
  ]);
  for (let poll = 0; poll < 4; poll++) await agent.step();
  t.equal(server.seen.checkins.length, 4, 'offered at every check-in');
  t.same(server.seen.events, [], 'never started');
  t.same(server.seen.artifactRequests, []);
});

t.test('minVersion: a release that cannot be installed over the running version is refused', async (t) => {
  const { server, agent, trust, device } = await setup(t);
  server.script.offer!.manifest = signDocument(manifestFor(artifact, { minVersion: '1.5.0' }), [trust.keys.release]);
  await stepUntil(agent, (a) => journalState(a) === 'idle' && server.seen.recorded.length > 0, 5);
  t.match(server.seen.recorded, [{ state: 'failed', detail: /^version_below_minimum/ }]);
  t.same(server.seen.artifactRequests, [], 'nothing downloaded');
  t.equal(slotFiles(device, 'b'), null);
});

t.test('backoff: errors double the wait, capped; a good check-in resets it', async (t) => {
  const { server, agent } = await setup(t, { overrides: { pollSeconds: 10 } });
  server.script.unreachable = true;
  const delays: number[] = [];
  for (let attempt = 0; attempt < 8; attempt++) delays.push(await agent.step());
  t.same(
    delays,
    [2000, 4000, 8000, 16000, 32000, 40000, 40000, 40000],
    'exponential, capped at four poll intervals (jitter fixed at the midpoint)',
  );
  server.script.unreachable = false;
  server.script.offer = null;
  t.equal(await agent.step(), 30_000, "back to the server's pollAfterSeconds");
  t.equal(journalState(agent), 'idle');
});
