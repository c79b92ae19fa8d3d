// The real `sluice agent` process against the fake server on loopback: `--once` and
// `agent status`, and SIGKILL from outside in the middle of the download, the install hook and
// the health hook (a power loss: the hook's process group dies too). After a restart the
// device ends on the new, committed version with a whole image (DESIGN.md, "Device agent").
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signDocument } from '../../signing/signed.js';
import { readStateFile } from '../../client/state-file.js';
import { sluiceBin } from '../helpers/processes.js';
import { startAgentProcess, waitFor } from '../helpers/agent.js';
import { startFakeServer, throwAwayTrust, manifestFor } from './helpers/fake-server.js';
import { makeDevice, slotFiles, type Device } from './helpers/device.js';

const hour = 3600_000;

async function setup(t: Test, options: { artifact?: Buffer; window?: 'open' | 'later'; healthExit?: number } = {}) {
  const artifact = options.artifact ?? randomBytes(300 * 1024);
  const trust = throwAwayTrust();
  const server = await startFakeServer({ keys: trust.keys, script: { pollAfterSeconds: 1 } });
  t.teardown(server.close);
  const open = options.window !== 'later';
  server.script.offer = {
    id: 'a1',
    manifest: signDocument(manifestFor(artifact), [trust.keys.release]),
    bytes: artifact,
    installAllowed: open,
    downgrade: false,
    window: open
      ? { start: new Date(Date.now() - hour).toISOString(), end: new Date(Date.now() + 3 * hour).toISOString() }
      : { start: new Date(Date.now() + hour).toISOString(), end: new Date(Date.now() + 4 * hour).toISOString() },
  };
  const device = makeDevice(t, {
    server: server.url,
    rootDocument: trust.rootDocument,
    healthExit: options.healthExit,
    overrides: { pollSeconds: 1 },
  });
  return { artifact, server, device };
}

function sluice(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [sluiceBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sluice ${args.join(' ')} did not finish: ${stderr}`));
    }, 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

t.test('--once runs one cycle: downloads, stages and stops to wait for the window; status tells', async (t) => {
  const { server, device } = await setup(t, { window: 'later' });
  const once = await sluice(['agent', '--config', device.configPath, '--once']);
  if (!t.equal(once.code, 0, 'one cycle, exit 0')) t.comment(once.stderr);
  t.same(server.states(), ['downloading', 'downloaded', 'verified', 'staged', 'waiting_window']);
  const status = await sluice(['agent', 'status', '--config', device.configPath, '--json']);
  t.equal(status.code, 0);
  t.match(JSON.parse(status.stdout), {
    deviceId: 'emu-0001',
    version: '1.0.0',
    activeSlot: 'a',
    state: 'waiting_window',
    assignment: 'a1',
    pendingReports: 0,
  });
  const text = await sluice(['agent', 'status', '--config', device.configPath]);
  t.match(text.stdout, /version:\s+1\.0\.0\nactive slot: a \(.*slots\/a\)\nstate:\s+waiting_window \(assignment a1, release 2\.0\.0\)/);
  server.script.unreachable = true;
  const offline = await sluice(['agent', '--config', device.configPath, '--once']);
  t.equal(offline.code, 1, 'a cycle that ends on an error exits 1');
  t.match(offline.stderr, /server_unreachable/, 'with the code');
});

t.test('status says how the last update ended: committed, or rolled back with why', async (t) => {
  const { device } = await setup(t);
  const before = await sluice(['agent', 'status', '--config', device.configPath]);
  t.match(before.stdout, /last update: none yet/);
  const committed = await sluice(['agent', '--config', device.configPath, '--once']);
  if (!t.equal(committed.code, 0)) t.comment(committed.stderr);
  const afterCommit = await sluice(['agent', 'status', '--config', device.configPath, '--json']);
  t.match(JSON.parse(afterCommit.stdout).lastUpdate, {
    release: 'release-a1',
    version: '2.0.0',
    outcome: 'committed',
    detail: null,
    runningVersion: '2.0.0',
  });

  const failing = await setup(t, { healthExit: 3 });
  await sluice(['agent', '--config', failing.device.configPath, '--once']);
  const text = await sluice(['agent', 'status', '--config', failing.device.configPath]);
  t.match(
    text.stdout,
    /last update: 2\.0\.0 \(release release-a1\) rolled back at \d{4}-\d\d-\d\dT[^:]+:\d\d:\d\d\.\d+Z: health_failed: health says no/,
  );
  t.match(text.stdout, /running 1\.0\.0/, 'back on the old version');
});

t.test('a bad config names the field and exits 1', async (t) => {
  const { device } = await setup(t);
  const config = JSON.parse(readFileSync(device.configPath, 'utf8'));
  delete config.hardware;
  config.install.timeout = 5;
  writeFileSync(device.configPath, JSON.stringify(config));
  const result = await sluice(['agent', '--config', device.configPath, '--once']);
  t.equal(result.code, 1);
  t.match(result.stderr, /install\.timeout: is not a known field/);
});

/** A hook that records its process group and, the first time, hangs until killed. */
function hangingHook(device: Device, name: 'install' | 'health') {
  const script = join(device.directory, `${name}.sh`);
  const real = join(device.directory, `${name}-real.sh`);
  writeFileSync(real, readFileSync(script));
  chmodSync(real, 0o755);
  const marker = join(device.directory, `${name}.hung-once`);
  const pidFile = join(device.directory, `${name}.pid`);
  writeFileSync(
    script,
    // The marker is made before the pid file the test waits for: a kill that came between the two
    // (a loaded machine is slow to fork `touch`) left a second run that hung as well.
    `#!/bin/sh\nif [ ! -f "${marker}" ]; then touch "${marker}"; echo $$ > "${pidFile}"; sleep 30; fi\nexec "${real}"\n`,
  );
  return { pidFile };
}

const powerLoss = async (agent: ReturnType<typeof startAgentProcess>, hookPidFile?: string) => {
  agent.process.kill('SIGKILL');
  // A power loss takes the hook (its own process group) down too.
  if (hookPidFile)
    try {
      process.kill(-Number(readFileSync(hookPidFile, 'utf8')), 'SIGKILL');
    } catch {
      /* already gone */
    }
  await agent.exited;
};

async function finishAfterRestart(t: Test, setupResult: Awaited<ReturnType<typeof setup>>) {
  const { server, device, artifact } = setupResult;
  const second = startAgentProcess(device);
  t.teardown(second.stop);
  await waitFor(
    () => server.states().includes('committed') && readStateFile(device.dataDir, '0.0.0').journal.state === 'idle',
    'the commit',
    30_000,
  ).catch((error) => t.fail(`${error.message}\n${second.output()}`));
  await second.stop();
  t.same(readStateFile(device.dataDir, '0.0.0').device, { version: '2.0.0', activeSlot: 'b' }, 'the new, committed version');
  t.ok(slotFiles(device, 'b')?.equals(artifact), 'a whole image in the new slot');
  t.equal(server.seen.recorded.filter((event) => event.state === 'committed').length, 1, 'committed recorded once');
}

t.test('SIGKILL in the middle of the download: the restart resumes with Range and commits', async (t) => {
  const context = await setup(t, { artifact: randomBytes(3 * 1024 * 1024) });
  context.server.script.slowArtifact = true;
  const first = startAgentProcess(context.device);
  t.teardown(first.stop);
  const partial = join(context.device.dataDir, 'partial');
  await waitFor(
    () =>
      existsSync(partial) &&
      (statSync(join(partial, `${manifestFor(context.artifact).artifact.sha256}.part`), { throwIfNoEntry: false })?.size ?? 0) > 200 * 1024,
    'some bytes on disk',
    20_000,
  );
  await powerLoss(first);
  t.equal(readStateFile(context.device.dataDir, '0.0.0').journal.state, 'downloading');
  await finishAfterRestart(t, context);
  const ranges = context.server.seen.artifactRequests.map((request) => request.range);
  t.equal(ranges[0], null);
  t.match(ranges[1], /^bytes=[1-9]\d*-$/, `the restart asked from the bytes it had (${ranges[1]})`);
});

for (const hook of ['install', 'health'] as const) {
  t.test(
    `SIGKILL while the ${hook} hook runs: the restart ${hook === 'install' ? 'installs again' : 'checks again'} and commits`,
    async (t) => {
      const context = await setup(t);
      const { pidFile } = hangingHook(context.device, hook);
      const first = startAgentProcess(context.device);
      t.teardown(first.stop);
      await waitFor(() => existsSync(pidFile), `the ${hook} hook to start`, 20_000).catch((error) =>
        t.fail(`${error.message}\n${first.output()}`),
      );
      await powerLoss(first, pidFile);
      const state = readStateFile(context.device.dataDir, '0.0.0');
      t.equal(state.journal.state, hook === 'install' ? 'installing' : 'health_check');
      t.equal(
        state.device.activeSlot,
        hook === 'install' ? 'a' : 'b',
        hook === 'install' ? 'the old slot is still active' : 'switched, not committed',
      );
      t.equal(state.device.version, '1.0.0', 'not committed');
      await finishAfterRestart(t, context);
    },
  );
}
