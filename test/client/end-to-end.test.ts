// A real server and a real agent process (issue: agent, "Done means"): the agent downloads
// and stages before the window, installs inside it, passes its health check and commits; a
// second run whose health check fails ends rolled back and reported.
import t from 'tap';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { confirmedPlanScenario, windowStartUtc } from '../helpers/scenario.js';
import { prepareDevice, startAgentProcess, waitFor } from '../helpers/agent.js';
import { runSluice } from '../helpers/processes.js';

t.test('stage before the window, install inside it, health check, commit', async (t) => {
  const scenario = await confirmedPlanScenario(t, { secondsBeforeWindow: 2, holdBeforeWindow: true });
  t.teardown(() => rmSync(scenario.workDirectory, { recursive: true, force: true }));
  const device = prepareDevice(scenario.workDirectory, {
    server: scenario.url,
    deviceId: 'emu-0001',
    token: scenario.tokens['emu-0001'],
    rootPath: scenario.rootPath,
  });
  const agent = startAgentProcess(device);
  t.teardown(agent.stop);

  // The server's clock waits short of the window until the agent has staged and waits for it.
  const reached = (state: string) => async () => (await scenario.events('emu-0001')).some((event) => event.state === state);
  await waitFor(reached('waiting_window'), 'the wait for the window', 60_000).catch((error) =>
    t.fail(`${error.message}\n${agent.output()}`),
  );
  scenario.openWindow();
  await waitFor(reached('committed'), 'the commit', 60_000).catch((error) => {
    t.fail(`${error.message}\n${agent.output()}`);
  });
  const events = await scenario.events('emu-0001');
  t.same(
    events.map((event) => event.state),
    ['downloading', 'downloaded', 'verified', 'staged', 'waiting_window', 'installing', 'health_check', 'committed'],
    'every transition reported, in order',
  );
  const at = (state: string) => new Date(events.find((event) => event.state === state)!.receivedAt);
  t.ok(at('staged') < windowStartUtc, 'staged before the window opened', { staged: at('staged'), events });
  t.ok(at('installing') >= windowStartUtc, 'installed only inside the window');
  t.ok(readFileSync(join(device.slots.b, 'image.bin')).equals(scenario.artifact), 'the new image is in the other slot');

  const plan = await waitFor(async () => {
    const view = await scenario.plan();
    return view.status === 'completed' ? view : null;
  }, 'the plan to complete');
  t.equal(plan.progress.byState.committed, 1, 'the plan shows the device succeeded');
  const deviceView = (await scenario.server.call('GET', '/api/v1/devices/emu-0001', scenario.fleet.tokens.support)).json;
  t.equal(deviceView.device.version, '2.0.0');

  await agent.stop();
  const status = await runSluice(['agent', 'status', '--config', device.configPath, '--json']);
  t.match(JSON.parse(status.stdout), { deviceId: 'emu-0001', version: '2.0.0', activeSlot: 'b', state: 'idle', pendingReports: 0 });
});

t.test('a failing health check rolls back to the old slot and reports it', async (t) => {
  const scenario = await confirmedPlanScenario(t, { secondsBeforeWindow: 2 });
  t.teardown(() => rmSync(scenario.workDirectory, { recursive: true, force: true }));
  const device = prepareDevice(scenario.workDirectory, {
    server: scenario.url,
    deviceId: 'emu-0001',
    token: scenario.tokens['emu-0001'],
    rootPath: scenario.rootPath,
    healthExit: 1,
  });
  const agent = startAgentProcess(device);
  t.teardown(agent.stop);

  await waitFor(
    async () => (await scenario.events('emu-0001')).some((event) => event.state === 'rolled_back'),
    'the rollback',
    60_000,
  ).catch((error) => {
    t.fail(`${error.message}\n${agent.output()}`);
  });
  const states = (await scenario.events('emu-0001')).map((event) => event.state);
  t.same(states.slice(-4), ['installing', 'health_check', 'rolling_back', 'rolled_back']);
  t.match((await scenario.events('emu-0001')).find((event) => event.state === 'rolling_back')!.detail, /health_failed/);
  await agent.stop();
  const status = JSON.parse((await runSluice(['agent', 'status', '--config', device.configPath, '--json'])).stdout);
  t.match(status, { version: '1.0.0', activeSlot: 'a' }, 'back on the old version and slot');
  const view = (await scenario.server.call('GET', '/api/v1/devices/emu-0001', scenario.fleet.tokens.support)).json;
  t.equal(view.device.version, '1.0.0', 'the server agrees');
  t.equal((await scenario.plan()).progress.byState.rolled_back, 1);
});
