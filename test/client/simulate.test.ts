// `sluice simulate`: virtual devices that join a confirmed plan late (its last wave) and all
// commit inside the window, every report received, through the connections they are allowed.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestServer, seedFleet, signedManifest, uploadRelease } from '../helpers/server.js';
import { runSluice } from '../helpers/processes.js';

t.test('twenty virtual devices commit through one window', async (t) => {
  const offset = new Date('2027-01-10T01:00:00Z').getTime() - Date.now();
  const server = await startTestServer(t, { now: () => new Date(Date.now() + offset), pollSeconds: 1 });
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  // The most connections the simulator held open at once (--connections 2: two for
  // check-ins and reports, two for downloads); unbounded, twenty devices open about twenty.
  let open = 0;
  let mostOpen = 0;
  server.app.server.on('connection', (socket) => {
    mostOpen = Math.max(mostOpen, ++open);
    socket.once('close', () => open--);
  });
  const fleet = await seedFleet(server, { customer: 'sim' });
  const artifact = randomBytes(8192);
  const release = await uploadRelease(
    server,
    fleet.tokens.release,
    signedManifest(artifact, { product: 'emu', version: '2.0.0' }, [server.keys.release]),
    artifact,
  );
  const plan = (
    await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
      customer: 'sim',
      release: release.json.id,
      windows: [{ start: '2027-01-10T01:00', end: '2027-01-10T05:00', timezone: 'Europe/Madrid' }],
      deadline: '2027-02-01T00:00:00Z',
    })
  ).json;
  await server.call('POST', `/api/v1/plans/${plan.id}/propose`, fleet.tokens.support);
  await server.call('POST', `/api/v1/plans/${plan.id}/confirm`, fleet.tokens.customer, {
    window: 0,
    maintainer: { name: 'Ana', phone: '600' },
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-sim-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const result = await runSluice([
    'simulate',
    '--server',
    url,
    '--token',
    fleet.tokens.support,
    '--devices',
    '20',
    '--customer',
    'sim',
    '--data-dir',
    dataDir,
    '--until-version',
    '2.0.0',
    '--duration',
    '50',
    '--connections',
    '2',
  ]);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stderr, /final: \{"idle@2\.0\.0":20\}/);
  const view = (await server.call('GET', `/api/v1/plans/${plan.id}`, fleet.tokens.support)).json;
  t.equal(view.progress.byState.committed, 20, 'the plan saw every device commit');
  t.equal(view.status, 'completed');
  const { store } = server.app.sluice;
  let events = 0;
  for (const device of await store.devices.list({ customer: 'sim' })) events += await store.devices.eventCount({ device: device.id });
  t.equal(events, 20 * 8, 'eight reports per device, none lost');
  t.ok(mostOpen >= 1 && mostOpen <= 4, `the virtual devices shared at most 2 + 2 connections (saw ${mostOpen})`);
});
