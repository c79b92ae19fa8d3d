// The proof for existing fleets (issue: hawkBit DDI): a real SWUpdate in suricatta mode,
// pointed at sluice on 127.0.0.1, installs a confirmed plan inside its window and reports
// success; outside the window it downloads and installs nothing.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confirmedPlanScenario } from '../helpers/scenario.js';
import { buildSwu, startSuricatta, readIfExists, writeIdentifyConfig } from '../helpers/swupdate.js';
import { waitFor } from '../helpers/agent.js';

const missing = ['/usr/bin/swupdate', '/usr/bin/cpio', '/usr/bin/openssl'].filter((path) => !existsSync(path));
const skip = missing.length ? `needs ${missing.join(', ')} (.ci/run installs swupdate and cpio)` : false;

t.test('inside the window SWUpdate downloads, installs and reports success', { skip }, async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'sluice-swupdate-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const image = buildSwu(directory, 'installed by sluice through hawkBit DDI\n');
  const scenario = await confirmedPlanScenario(t, { secondsBeforeWindow: -60, artifact: image.swu, manifest: { name: 'update.swu' } });
  const swupdate = startSuricatta({
    directory,
    certificate: image.certificate,
    server: scenario.url,
    deviceId: 'emu-0001',
    token: scenario.tokens['emu-0001'],
    pollSeconds: 1,
  });
  t.teardown(swupdate.stop);
  await waitFor(() => readIfExists(image.installedPath), 'SWUpdate to install', 60_000).catch((error) =>
    t.fail(`${error.message}\n${swupdate.output().slice(-3000)}`),
  );
  t.equal(readIfExists(image.installedPath), 'installed by sluice through hawkBit DDI\n', 'the image was installed');
  // SWUpdate now waits for the reboot that tests the new image; on a real device the booted
  // system confirms it. Here: restart it with "-c 2" (confirm SUCCESS), as that boot would.
  await swupdate.stop();
  const confirmed = startSuricatta({
    directory,
    certificate: image.certificate,
    server: scenario.url,
    deviceId: 'emu-0001',
    token: scenario.tokens['emu-0001'],
    pollSeconds: 1,
    confirm: 2,
  });
  t.teardown(confirmed.stop);
  await waitFor(
    async () => (await scenario.events('emu-0001')).some((event) => event.state === 'committed' || event.state === 'failed'),
    'SWUpdate to report',
    60_000,
  ).catch((error) => t.fail(`${error.message}\n${confirmed.output().slice(-3000)}`));
  const states = (await scenario.events('emu-0001')).map((event) => event.state);
  t.equal(states.at(-1), 'committed', `reported success (${states.join(', ')})`);
  const plan = await scenario.plan();
  t.equal(plan.progress.byState.committed, 1, 'the plan shows the device as succeeded');
  t.equal(plan.status, 'completed');
});

t.test('outside the window SWUpdate downloads nothing and installs nothing', { skip }, async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'sluice-swupdate-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const image = buildSwu(directory, 'must not be installed\n');
  const scenario = await confirmedPlanScenario(t, { secondsBeforeWindow: 3600, artifact: image.swu, manifest: { name: 'update.swu' } });
  const swupdate = startSuricatta({
    directory,
    certificate: image.certificate,
    server: scenario.url,
    deviceId: 'emu-0001',
    token: scenario.tokens['emu-0001'],
    pollSeconds: 1,
  });
  t.teardown(swupdate.stop);
  const { store } = scenario.server.app.sluice;
  await waitFor(async () => (await store.devices.get('emu-0001'))?.lastSeenAt, 'SWUpdate to poll', 30_000);
  await new Promise((resolve) => setTimeout(resolve, 5000));
  t.equal(await store.audit.count({ action: 'ddi.download' }), 0, 'no download');
  t.equal(readIfExists(image.installedPath), null, 'nothing installed');
  t.notOk(
    (await scenario.events('emu-0001')).some((event) => ['installing', 'committed'].includes(event.state)),
    `no install reported: ${JSON.stringify(await scenario.events('emu-0001'))}`,
  );
});

t.test(
  'a cancel SWUpdate acknowledges while it waits to reboot into the installed update: the next start corrects the version',
  { skip },
  async (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'sluice-swupdate-'));
    t.teardown(() => rmSync(directory, { recursive: true, force: true }));
    const image = buildSwu(directory, 'installed just before the cancel\n');
    const scenario = await confirmedPlanScenario(t, { secondsBeforeWindow: -60, artifact: image.swu, manifest: { name: 'update.swu' } });
    const { store } = scenario.server.app.sluice;
    const swupdate = startSuricatta({
      directory,
      certificate: image.certificate,
      server: scenario.url,
      deviceId: 'emu-0001',
      token: scenario.tokens['emu-0001'],
      pollSeconds: 1,
    });
    t.teardown(swupdate.stop);
    await waitFor(() => readIfExists(image.installedPath), 'SWUpdate to install', 60_000).catch((error) =>
      t.fail(`${error.message}\n${swupdate.output().slice(-3000)}`),
    );
    // Installed, waiting for the reboot: now the plan is cancelled, and SWUpdate acknowledges it.
    t.equal(
      (await scenario.server.call('POST', `/api/v1/plans/${scenario.planId}/cancel`, scenario.fleet.tokens.support, { reason: 'too late' }))
        .status,
      200,
    );
    await waitFor(
      async () => (await scenario.events('emu-0001')).some((event) => event.detail === 'cancel confirmed by the device'),
      'SWUpdate to acknowledge the cancel',
      30_000,
    ).catch((error) => t.fail(`${error.message}\n${swupdate.output().slice(-3000)}`));
    t.equal((await store.devices.get('emu-0001'))?.version, '1.0.0', 'sluice still shows the old version: the device said it cancelled');
    // The device boots into the new image, whose swupdate.cfg names the version it runs.
    await swupdate.stop();
    const configFile = writeIdentifyConfig(directory, { version: '2.0.0' });
    const booted = startSuricatta({
      directory,
      certificate: image.certificate,
      server: scenario.url,
      deviceId: 'emu-0001',
      token: scenario.tokens['emu-0001'],
      pollSeconds: 1,
      confirm: 2,
      configFile,
    });
    t.teardown(booted.stop);
    await waitFor(async () => (await store.devices.get('emu-0001'))?.version === '2.0.0', 'the version to be corrected', 30_000).catch(
      (error) => t.fail(`${error.message}\n${booted.output().slice(-3000)}`),
    );
    t.equal((await store.devices.get('emu-0001'))?.version, '2.0.0', 'the record shows what the device runs');
    t.equal(await store.audit.count({ subject: 'device:emu-0001', action: 'device.version_reported' }), 1, 'audited once');
  },
);
