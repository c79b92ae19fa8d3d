// The device agent's prebuilt bundle (`npm run build:agent`, README "Device integrators"):
// built fresh, run by plain node against a real server, it stages, installs inside the
// window and commits exactly as `sluice agent` does, and `agent status` reads the result.
import t from 'tap';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confirmedPlanScenario } from '../helpers/scenario.js';
import { prepareDevice, waitFor } from '../helpers/agent.js';
// @ts-expect-error: plain JavaScript build script without type declarations
import { bundle, root } from '../../build/agent.mjs';

t.test('the bundled agent commits an update and reports its status', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'sluice-bundle-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const agentFile = join(directory, 'sluice-agent.mjs');
  await bundle(join(root, 'cli', 'agent-bundle.ts'), agentFile);

  const scenario = await confirmedPlanScenario(t, { secondsBeforeWindow: 2 });
  t.teardown(() => rmSync(scenario.workDirectory, { recursive: true, force: true }));
  const device = prepareDevice(scenario.workDirectory, {
    server: scenario.url,
    deviceId: 'emu-0001',
    token: scenario.tokens['emu-0001'],
    rootPath: scenario.rootPath,
  });
  const agent = spawn(process.execPath, [agentFile, 'agent', '--config', device.configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise((resolve) => agent.once('exit', resolve));
  t.teardown(async () => {
    if (agent.exitCode === null) {
      agent.kill('SIGTERM');
      await exited;
    }
  });

  await waitFor(async () => (await scenario.events('emu-0001')).some((event) => event.state === 'committed'), 'the commit', 60_000);
  t.ok(readFileSync(join(device.slots.b, 'image.bin')).equals(scenario.artifact), 'the new image is in the other slot');
  agent.kill('SIGTERM');
  await exited;
  const status = JSON.parse(
    execFileSync(process.execPath, [agentFile, 'agent', 'status', '--config', device.configPath, '--json']).toString(),
  );
  t.match(status, { deviceId: 'emu-0001', version: '2.0.0', activeSlot: 'b', state: 'idle' });
});
