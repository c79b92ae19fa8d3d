// The network failing under a real agent (issue: agent, "Faults"): a download cut in the
// middle resumes with Range and ends byte-identical; reports made while the server cannot be
// reached are kept, sent later in order, and recorded once.
import t from 'tap';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { confirmedPlanScenario } from '../helpers/scenario.js';
import { prepareDevice, startAgentProcess, waitFor } from '../helpers/agent.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';

const allStates = ['downloading', 'downloaded', 'verified', 'staged', 'waiting_window', 'installing', 'health_check', 'committed'];

t.test('a connection cut mid-download resumes from the byte it had', async (t) => {
  const scenario = await confirmedPlanScenario(t, { secondsBeforeWindow: 2, artifact: randomBytes(3 * 1024 * 1024) });
  t.teardown(() => rmSync(scenario.workDirectory, { recursive: true, force: true }));
  const proxy = await startFaultProxy(scenario.url);
  t.teardown(proxy.close);
  proxy.faults.cutArtifactAfterBytes = 1024 * 1024;
  const device = prepareDevice(scenario.workDirectory, {
    server: proxy.url,
    deviceId: 'emu-0001',
    token: scenario.tokens['emu-0001'],
    rootPath: scenario.rootPath,
  });
  const agent = startAgentProcess(device);
  t.teardown(agent.stop);
  await waitFor(async () => (await scenario.events('emu-0001')).some((event) => event.state === 'committed'), 'the commit', 60_000).catch(
    (error) => t.fail(`${error.message}\n${agent.output()}`),
  );
  const downloads = proxy.seen.filter((request) => request.method === 'GET' && request.path.endsWith('/artifact'));
  t.equal(downloads[0].range, null, 'the first attempt asks for everything');
  t.ok(downloads.length >= 2, 'the cut forced a second attempt');
  const resumedFrom = Number(/^bytes=(\d+)-$/.exec(downloads[1].range ?? '')?.[1]);
  t.ok(resumedFrom > 0 && resumedFrom <= 1024 * 1024, `the second attempt asks for a Range from the byte it had (${downloads[1].range})`);
  t.ok(readFileSync(join(device.slots.b, 'image.bin')).equals(scenario.artifact), 'the installed image is byte-identical');
});

t.test('reports made while the server is unreachable are sent later, in order, once', async (t) => {
  const scenario = await confirmedPlanScenario(t, { secondsBeforeWindow: 2 });
  t.teardown(() => rmSync(scenario.workDirectory, { recursive: true, force: true }));
  const proxy = await startFaultProxy(scenario.url);
  t.teardown(proxy.close);
  proxy.faults.dropEvents = true;
  const device = prepareDevice(scenario.workDirectory, {
    server: proxy.url,
    deviceId: 'emu-0001',
    token: scenario.tokens['emu-0001'],
    rootPath: scenario.rootPath,
  });
  const agent = startAgentProcess(device);
  t.teardown(agent.stop);
  const stateFile = join(device.dataDir, 'state.json');
  await waitFor(
    () => {
      try {
        return JSON.parse(readFileSync(stateFile, 'utf8')).device.version === '2.0.0';
      } catch {
        return false;
      }
    },
    'the device to commit locally',
    60_000,
  ).catch((error) => t.fail(`${error.message}\n${agent.output()}`));
  t.same(await scenario.events('emu-0001'), [], 'the server has heard nothing yet');
  t.ok(proxy.seen.filter((request) => request.path === '/api/v1/device/events').length > 0, 'the agent did try to report');
  proxy.faults.dropEvents = false;
  await waitFor(async () => (await scenario.events('emu-0001')).length >= allStates.length, 'the outbox to drain', 60_000).catch((error) =>
    t.fail(`${error.message}\n${agent.output()}`),
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.same(
    (await scenario.events('emu-0001')).map((event) => event.state),
    allStates,
    'every report arrived, in order, exactly once',
  );
  t.equal((await scenario.plan()).status, 'completed');
});
