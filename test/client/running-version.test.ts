// The running version must be known (DESIGN.md, "Device agent": `version`, or `versionFile`,
// a file read at each start): the agent checks in with it and judges every offer by it; a
// version file is believed at each start unless an update is in flight.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signDocument } from '../../signing/signed.js';
import { loadConfig } from '../../client/config.js';
import { startingState } from '../../client/running-version.js';
import { readStateFile, writeStateFile } from '../../client/state-file.js';
import { startFakeServer, throwAwayTrust, manifestFor } from './helpers/fake-server.js';
import { makeDevice, manualClock, startAgent } from './helpers/device.js';

const artifact = randomBytes(64 * 1024);

async function setup(t: Test, fileVersion: string) {
  const trust = throwAwayTrust();
  const clock = manualClock(new Date());
  const server = await startFakeServer({ keys: trust.keys, now: clock.now });
  t.teardown(server.close);
  const device = makeDevice(t, {
    server: server.url,
    rootDocument: trust.rootDocument,
    overrides: { version: undefined, versionFile: 'sw-version' },
    files: { 'sw-version': `${fileVersion}\n` },
  });
  const start = () => startAgent({ ...device, config: loadConfig(device.configPath) }, { now: clock.now });
  return { trust, server, device, start };
}

t.test('the version file names the running version: check-ins say it, offers are judged by it', async (t) => {
  const { trust, server, start } = await setup(t, '2.4.0');
  server.script.offer = {
    id: 'a1',
    manifest: signDocument(manifestFor(artifact, { version: '2.0.0' }), [trust.keys.release]),
    bytes: artifact,
    window: null,
    installAllowed: false,
    downgrade: false,
  };
  const agent = start();
  await agent.step();
  await agent.step();
  t.match(server.seen.checkins[0], { version: '2.4.0' });
  t.match(
    server.seen.recorded,
    [{ state: 'failed', detail: /^version_not_newer: the release 2\.0\.0 is not newer than the running 2\.4\.0/ }],
    'an older release is a rollback, not an upgrade from 0.0.0',
  );
  t.same(server.seen.artifactRequests, []);
});

t.test('read at each start: a re-flash outside sluice is believed when no update is in flight', async (t) => {
  const { trust, server, device, start } = await setup(t, '2.4.0');
  // An offer refused leaves the agent's own record behind.
  server.script.offer = {
    id: 'a1',
    manifest: signDocument(manifestFor(artifact, { version: '2.0.0' }), [trust.keys.release]),
    bytes: artifact,
    window: null,
    installAllowed: false,
    downgrade: false,
  };
  const first = start();
  await first.step();
  await first.step();
  t.equal(readStateFile(device.dataDir, '0.0.0').device.version, '2.4.0', 'the first start records it');
  server.script.offer = null;
  writeFileSync(join(device.directory, 'sw-version'), '2.6.1\n');
  const restarted = start();
  t.equal(restarted.state.device.version, '2.6.1', 'the next start believes the file');
  t.equal(readStateFile(device.dataDir, '0.0.0').device.version, '2.6.1', 'and records it');
  await restarted.step();
  t.match(server.seen.checkins.at(-1), { version: '2.6.1' });
});

t.test('in the middle of an update the journal knows better than the file', async (t) => {
  const { device } = await setup(t, '2.4.0');
  const idle = readStateFile(device.dataDir, '2.4.0');
  writeStateFile(device.dataDir, {
    ...idle,
    device: { version: '2.4.0', activeSlot: 'b' },
    journal: { ...idle.journal, state: 'health_check', previous: { version: '2.4.0', slot: 'a' } },
  });
  writeFileSync(join(device.directory, 'sw-version'), '3.0.0\n');
  const { state, corrected } = startingState(loadConfig(device.configPath));
  t.equal(state.device.version, '2.4.0', 'the health check decides, then the commit writes the version');
  t.equal(corrected, null);
});
