// `sluice simulate`: virtual devices that join a confirmed plan late (its last wave) and all
// commit inside the window, every report received, through the connections they are allowed;
// a registration whose answer is lost on the way is made good.
import t, { type Test } from 'tap';
import { createServer, connect, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { confirmedPlanScenario } from '../helpers/scenario.js';
import { runSluice } from '../helpers/processes.js';

/** A confirmed plan for customer acme with no device yet: the simulated ones join it. */
async function planWithoutDevices(t: Test) {
  const scenario = await confirmedPlanScenario(t, { devices: [], artifact: Buffer.alloc(8192, 7), secondsBeforeWindow: 1 });
  t.teardown(() => rmSync(scenario.workDirectory, { recursive: true, force: true }));
  return scenario;
}

/** `sluice simulate` of `devices` devices of acme, through `url`, until they all run 2.0.0. */
function simulate(scenario: Awaited<ReturnType<typeof planWithoutDevices>>, url: string, devices: number, extra: string[] = []) {
  return runSluice([
    'simulate',
    '--server',
    url,
    '--token',
    scenario.fleet.tokens.support,
    '--devices',
    String(devices),
    '--customer',
    'acme',
    '--data-dir',
    scenario.workDirectory,
    '--until-version',
    '2.0.0',
    '--duration',
    '50',
    ...extra,
  ]);
}

t.test('twenty virtual devices commit through one window', async (t) => {
  const scenario = await planWithoutDevices(t);
  const { server } = scenario;
  // The most connections the simulator held open at once (--connections 2: two for
  // check-ins and reports, two for downloads); unbounded, twenty devices open about twenty.
  let open = 0;
  let mostOpen = 0;
  server.app.server.on('connection', (socket) => {
    mostOpen = Math.max(mostOpen, ++open);
    socket.once('close', () => open--);
  });
  const result = await simulate(scenario, scenario.url, 20, ['--connections', '2']);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stderr, /final: \{"idle@2\.0\.0":20\}/);
  const view = await scenario.plan();
  t.equal(view.progress.byState.committed, 20, 'the plan saw every device commit');
  t.equal(view.status, 'completed');
  const { store } = server.app.sluice;
  let events = 0;
  for (const device of await store.devices.list({ customer: 'acme' })) events += await store.devices.eventCount({ device: device.id });
  t.equal(events, 20 * 8, 'eight reports per device, none lost');
  t.ok(mostOpen >= 1 && mostOpen <= 4, `the virtual devices shared at most 2 + 2 connections (saw ${mostOpen})`);
});

/**
 * A loopback proxy to `target` that cuts the connection of the first `POST /api/v1/devices`
 * as its answer comes back: the server has registered the device, the client never hears so.
 */
async function proxyLosingFirstRegistration(t: Test, target: URL): Promise<{ url: string; lost: () => number }> {
  let lost = 0;
  const proxy = createServer((client: Socket) => {
    const upstream = connect(Number(target.port), target.hostname);
    let cutting = false;
    client.on('data', (data: Buffer) => {
      if (lost === 0 && data.includes('POST /api/v1/devices HTTP/1.1')) cutting = true;
      upstream.write(data);
    });
    upstream.on('data', (data: Buffer) => {
      if (!cutting) return client.write(data);
      cutting = false;
      lost++;
      client.destroy();
      upstream.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
  const address = proxy.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, lost: () => lost };
}

t.test('a device whose registration answer was lost is given a new token and updates', async (t) => {
  const scenario = await planWithoutDevices(t);
  const proxy = await proxyLosingFirstRegistration(t, new URL(scenario.url));
  const result = await simulate(scenario, proxy.url, 3);
  t.equal(proxy.lost(), 1, 'the proxy lost the answer to the first registration');
  t.equal(result.code, 0, result.stderr);
  t.match(result.stderr, /final: \{"idle@2\.0\.0":3\}/, 'every device, the first included, updated with the token it was given');
  const audit = (await scenario.server.call('GET', '/api/v1/audit?action=device.token.rotate', scenario.fleet.tokens.admin)).json;
  t.same(
    audit.map((entry: { subject: string }) => entry.subject),
    ['device:sim-00001'],
    'the lost token was replaced, so it no longer works',
  );
});
