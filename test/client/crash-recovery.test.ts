// The agent killed with SIGKILL in every state, then restarted (issue: agent, "Faults"): it
// ends on the old version or on the new committed one, never in between, and the server agrees.
import t, { type Test } from 'tap';
import { rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { confirmedPlanScenario } from '../helpers/scenario.js';
import { prepareDevice, startAgentProcess, waitFor } from '../helpers/agent.js';

const readState = (dataDir: string) => JSON.parse(readFileSync(join(dataDir, 'state.json'), 'utf8'));

async function crashThenRestart(
  t: Test,
  scenario: Awaited<ReturnType<typeof confirmedPlanScenario>>,
  deviceId: string,
  crashState: string,
  healthExit: number,
) {
  const device = prepareDevice(join(scenario.workDirectory, deviceId), {
    server: scenario.url,
    deviceId,
    token: scenario.tokens[deviceId],
    rootPath: scenario.rootPath,
    healthExit,
  });
  const first = startAgentProcess(device, { SLUICE_CRASH_AFTER_STATE: crashState });
  const exit = await Promise.race([first.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 60_000).unref())]);
  if (!exit) {
    await first.stop();
    throw new Error(`${deviceId} never reached ${crashState}: ${first.output()}`);
  }
  t.equal(exit.signal, 'SIGKILL', `${deviceId}: killed in ${crashState}`);
  t.equal(readState(device.dataDir).journal.state, crashState, `${deviceId}: the journal holds ${crashState}`);
  const second = startAgentProcess(device);
  const finalState = healthExit === 0 ? 'committed' : 'rolled_back';
  try {
    await waitFor(
      async () => (await scenario.events(deviceId)).some((event) => event.state === finalState),
      `${deviceId} to reach ${finalState}`,
      60_000,
    );
    await waitFor(() => readState(device.dataDir).journal.state === 'idle', `${deviceId} to settle`, 20_000);
  } catch (error) {
    t.fail(`${(error as Error).message}\n${second.output()}`);
  }
  await second.stop();
  return { device, state: readState(device.dataDir) };
}

const successStates = ['downloading', 'downloaded', 'verified', 'staged', 'waiting_window', 'installing', 'health_check', 'committed'];

t.test('killed in each state on the way to a commit: ends committed on the new version', async (t) => {
  const devices = successStates.map((state, index) => `emu-${index}`);
  const scenario = await confirmedPlanScenario(t, { secondsBeforeWindow: 3, devices });
  t.teardown(() => rmSync(scenario.workDirectory, { recursive: true, force: true }));
  await Promise.all(
    successStates.map(async (crashState, index) => {
      const deviceId = devices[index];
      const begun = Date.now();
      const { device, state } = await crashThenRestart(t, scenario, deviceId, crashState, 0);
      t.comment(`${crashState}: ${Date.now() - begun} ms`);
      t.match(state.device, { version: '2.0.0', activeSlot: 'b' }, `${deviceId} (${crashState}): new version, new slot`);
      t.ok(readFileSync(join(device.slots.b, 'image.bin')).equals(scenario.artifact), `${deviceId}: the installed image is whole`);
      const view = (await scenario.server.call('GET', `/api/v1/devices/${deviceId}`, scenario.fleet.tokens.support)).json;
      t.equal(view.device.version, '2.0.0', `${deviceId}: the server agrees`);
      t.equal(
        (await scenario.events(deviceId)).filter((event) => event.state === 'committed').length,
        1,
        `${deviceId}: committed reported once`,
      );
    }),
  );
});

t.test('killed while rolling back: ends on the old version and slot', async (t) => {
  const states = ['health_check', 'rolling_back', 'rolled_back'];
  const devices = states.map((state, index) => `emu-rb-${index}`);
  const scenario = await confirmedPlanScenario(t, {
    secondsBeforeWindow: 3,
    devices,
    waves: [{ percent: 100, failureLimit: { percent: 100 } }],
  });
  t.teardown(() => rmSync(scenario.workDirectory, { recursive: true, force: true }));
  await Promise.all(
    states.map(async (crashState, index) => {
      const { state } = await crashThenRestart(t, scenario, devices[index], crashState, 1);
      t.match(state.device, { version: '1.0.0', activeSlot: 'a' }, `${devices[index]} (${crashState}): old version, old slot`);
      const view = (await scenario.server.call('GET', `/api/v1/devices/${devices[index]}`, scenario.fleet.tokens.support)).json;
      t.equal(view.device.version, '1.0.0', `${devices[index]}: the server agrees`);
    }),
  );
});
