// Plan bad input, waves fed by device events, late devices, overdue flags (issue: plans).
import t from 'tap';
import { randomBytes, randomUUID } from 'node:crypto';
import { startTestServer, seedFleet, signedManifest, uploadRelease, type TestServer } from '../helpers/server.js';

const artifact = randomBytes(2048);
const madrid = (start: string, end: string) => ({ start, end, timezone: 'Europe/Madrid' });

async function setup(t: Parameters<typeof startTestServer>[0], now: () => Date) {
  const server = await startTestServer(t, { now });
  const fleet = await seedFleet(server);
  const release = await uploadRelease(
    server,
    fleet.tokens.release,
    signedManifest(artifact, { product: 'emu', version: '2.0.0' }, [server.keys.release]),
    artifact,
  );
  return { server, fleet, releaseId: release.json.id as string };
}

const planCount = async (server: TestServer) => (await server.app.sluice.store.plans.list()).length;

t.test('bad plans are refused with a clear 4xx and nothing changes', async (t) => {
  const now = new Date('2026-12-01T09:00:00Z');
  const { server, fleet, releaseId } = await setup(t, () => now);
  await fleet.addDevice('emu-0001');
  await server.call('POST', '/api/v1/products', server.adminToken, { id: 'gateway', name: 'Gateway' });
  await server.call('POST', '/api/v1/customers', server.adminToken, { id: 'globex', name: 'Globex', timezone: 'UTC' });
  await server.call('POST', '/api/v1/devices', server.adminToken, {
    id: 'gw-1',
    customer: 'acme',
    product: 'gateway',
    hardware: 'gw',
    version: '1.0.0',
  });
  await fleet.addDevice('globex-1', { customer: 'globex' });
  const otherArtifact = randomBytes(64);
  const yanked = await uploadRelease(
    server,
    fleet.tokens.release,
    signedManifest(otherArtifact, { product: 'emu', version: '1.5.0' }, [server.keys.release]),
    otherArtifact,
  );
  await server.call('POST', `/api/v1/releases/${yanked.json.id}/yank`, fleet.tokens.release, { reason: 'bad' });
  const good = madrid('2026-12-06T02:00', '2026-12-06T05:00');

  const cases: [string, Record<string, unknown>, number, string][] = [
    ['end not after start', { windows: [madrid('2026-12-06T05:00', '2026-12-06T02:00')] }, 400, 'invalid_window'],
    ['unknown time zone', { windows: [{ ...good, timezone: 'Europe/Atlantis' }] }, 400, 'invalid_timezone'],
    ['invalid cron', { windows: [{ cron: '61 * * * *', duration: 'PT2H', timezone: 'Europe/Madrid' }] }, 400, 'invalid_cron'],
    [
      'no occurrence before the deadline',
      { windows: [{ cron: '0 2 29 2 *', duration: 'PT2H', timezone: 'Europe/Madrid' }] },
      422,
      'no_window_before_deadline',
    ],
    [
      'a one-off window after the deadline',
      { windows: [madrid('2027-03-01T02:00', '2027-03-01T05:00')] },
      422,
      'no_window_before_deadline',
    ],
    ['a device of another product', { devices: ['gw-1'] }, 422, 'release_mismatch'],
    ['a device of another customer', { devices: ['globex-1'] }, 422, 'customer_mismatch'],
    ['an unknown device', { devices: ['ghost'] }, 422, 'unknown_device'],
    ['a yanked release', { release: yanked.json.id }, 410, 'release_yanked'],
    ['an unknown release', { release: 'nope' }, 422, 'unknown_release'],
    ['an unknown customer', { customer: 'nope' }, 422, 'unknown_customer'],
    ['no windows', { windows: [] }, 400, 'validation_failed'],
    ['an unknown field', { colour: 'blue' }, 400, 'validation_failed'],
  ];
  for (const [why, change, status, code] of cases) {
    const response = await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
      customer: 'acme',
      release: releaseId,
      windows: [good],
      ...change,
    });
    t.equal(response.status, status, `${why}: ${response.body}`);
    t.equal(response.json?.error?.code, code, why);
    t.equal(await planCount(server), 0, `${why}: nothing stored`);
  }
  t.equal(
    (await server.call('POST', '/api/v1/plans', fleet.tokens.customer, { customer: 'acme', release: releaseId, windows: [good] })).status,
    403,
    'customers do not draft plans',
  );

  const plan = (await server.call('POST', '/api/v1/plans', fleet.tokens.support, { customer: 'acme', release: releaseId, windows: [good] }))
    .json;
  await server.call('POST', `/api/v1/plans/${plan.id}/propose`, fleet.tokens.support);
  const globexUser = (
    await server.call('POST', '/api/v1/users', server.adminToken, { username: 'g', role: 'customer', customer: 'globex' })
  ).json.token;
  const foreign = await server.call('POST', `/api/v1/plans/${plan.id}/confirm`, globexUser, {
    window: 0,
    maintainer: { name: 'x', phone: '123' },
  });
  t.equal(foreign.status, 404, 'another customer cannot confirm, nor learn the plan exists');
  t.equal((await server.call('GET', `/api/v1/plans/${plan.id}`, globexUser)).status, 404);
  t.equal((await server.call('GET', `/api/v1/plans/${plan.id}/document`, globexUser)).status, 404);
  t.same((await server.call('GET', '/api/v1/plans', globexUser)).json, []);
  t.equal((await server.call('GET', `/api/v1/plans/${plan.id}`, fleet.tokens.customer)).json.status, 'proposed', 'nothing changed');
  const twice = await server.call('POST', `/api/v1/plans/${plan.id}/propose`, fleet.tokens.support);
  t.equal(twice.status, 409);
  t.match(twice.json.error, { code: 'illegal_transition', status: 'proposed' });
  t.match(twice.json.error.message, /proposed/);
  t.equal(
    (await server.call('GET', `/api/v1/plans/${plan.id}/calendar.ics`, fleet.tokens.customer)).status,
    409,
    'no calendar before confirmation',
  );
});

t.test('device events feed waves: a failed canary pauses the plan; late devices join the last wave', async (t) => {
  let now = new Date('2026-12-06T01:30:00Z');
  const { server, fleet, releaseId } = await setup(t, () => now);
  const tokens: Record<string, string> = {};
  for (let index = 0; index < 10; index++) tokens[`emu-${index}`] = await fleet.addDevice(`emu-${index}`);
  const plan = (
    await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
      customer: 'acme',
      release: releaseId,
      seed: 'fixed',
      windows: [madrid('2026-12-06T02:00', '2026-12-06T08:00')],
      waves: [
        { name: 'canary', count: 2, failureLimit: { count: 0 } },
        { name: 'rest', percent: 100, failureLimit: { percent: 50 } },
      ],
    })
  ).json;
  await server.call('POST', `/api/v1/plans/${plan.id}/propose`, fleet.tokens.support);
  const confirmed = (
    await server.call('POST', `/api/v1/plans/${plan.id}/confirm`, fleet.tokens.customer, {
      window: 0,
      maintainer: { name: 'Ana', phone: '600' },
    })
  ).json;
  t.same(
    confirmed.progress.waves.map((wave: { total: number }) => wave.total),
    [2, 8],
  );
  const membership = await server.app.sluice.store.plans.devices(plan.id);
  const canary = membership.filter((row) => row.wave === 0).map((row) => row.device);
  const rest = membership.filter((row) => row.wave === 1).map((row) => row.device);
  const report = (device: string, state: string, eventId = randomUUID()) =>
    server.call('POST', '/api/v1/device/events', tokens[device], { assignment: plan.id, state, eventId });
  const checkin = async (device: string) =>
    (await server.call('POST', '/api/v1/device/checkin', tokens[device], { version: '1.0.0', nonce: randomBytes(16).toString('hex') })).json
      .signed.assignment;

  t.ok(await checkin(canary[0]), 'the canary gets the release');
  t.equal(await checkin(rest[0]), null, 'the rest wait for the canary');
  t.equal(
    (await server.call('GET', `/api/v1/releases/${releaseId}/artifact`, tokens[rest[0]])).status,
    200,
    'devices of a confirmed plan may download',
  );
  t.equal((await report(canary[0], 'downloading')).status, 204);
  t.equal(
    (await server.call('GET', `/api/v1/plans/${plan.id}`, fleet.tokens.support)).json.status,
    'in_progress',
    'the first report starts the plan',
  );

  // A late device joins the customer after confirmation: it lands in the last wave.
  tokens['emu-late'] = await fleet.addDevice('emu-late');
  const late = (await server.app.sluice.store.plans.devices(plan.id)).find((member) => member.device === 'emu-late');
  t.equal(late?.wave, 1);
  t.equal(
    await server.app.sluice.store.audit.count({ subject: `plan:${plan.id}`, action: 'plan.device_joined' }),
    1,
    'the join is audited',
  );

  const eventId = randomUUID();
  t.equal((await report(canary[0], 'rolled_back', eventId)).status, 204);
  t.equal((await report(canary[0], 'rolled_back', eventId)).status, 204, 'a resend is accepted');
  t.equal(await server.app.sluice.store.devices.eventCount({ eventId }), 1, 'and recorded once');
  const paused = (await server.call('GET', `/api/v1/plans/${plan.id}`, fleet.tokens.support)).json;
  t.equal(paused.status, 'paused', 'a canary failure beyond the limit pauses the plan');
  t.equal(paused.progress.waves[0].status, 'failed');
  t.equal(await checkin(canary[1]), null, 'a paused plan assigns nothing');
  t.equal((await server.call('GET', '/api/v1/devices/emu-0', fleet.tokens.support)).json.device.version, '1.0.0');

  t.equal((await server.call('POST', `/api/v1/plans/${plan.id}/resume`, fleet.tokens.support)).json.status, 'in_progress');
  await report(canary[1], 'committed');
  const device = (await server.call('GET', `/api/v1/devices/${canary[1]}`, fleet.tokens.support)).json;
  t.equal(device.device.version, '2.0.0', "committed updates the device's version");
  t.equal(device.history[0].state, 'committed');
  t.equal((await report('emu-late', 'downloading', randomUUID())).status, 204);
  t.equal(
    (await server.call('POST', '/api/v1/device/events', tokens['emu-late'], { assignment: 'not-a-plan', state: 'failed' })).status,
    404,
    "an assignment that is not the device's",
  );
  now = new Date('2026-12-06T02:00:00Z');
});

t.test('a plan that cannot finish by its deadline is flagged overdue in the list and the audit log', async (t) => {
  let now = new Date('2026-12-01T09:00:00Z');
  const { server, fleet, releaseId } = await setup(t, () => now);
  await fleet.addDevice('emu-1');
  const plan = (
    await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
      customer: 'acme',
      release: releaseId,
      windows: [madrid('2026-12-06T02:00', '2026-12-06T05:00')],
    })
  ).json;
  t.equal(plan.overdue, false);
  now = new Date('2026-12-10T00:00:00Z'); // the only window has passed, the deadline has not
  const listed = (await server.call('GET', '/api/v1/plans', fleet.tokens.support)).json;
  t.match(listed[0], { overdue: true, overdueReason: 'no_window_before_deadline' });
  now = new Date('2027-01-02T00:00:00Z');
  t.match((await server.call('GET', `/api/v1/plans/${plan.id}`, fleet.tokens.support)).json, {
    overdue: true,
    overdueReason: 'unconfirmed_past_deadline',
  });
  await server.call('GET', `/api/v1/plans/${plan.id}`, fleet.tokens.support);
  const audit = (await server.call('GET', `/api/v1/audit?subject=plan:${plan.id}&action=plan.overdue`, fleet.tokens.support)).json;
  t.same(
    audit.map((entry: { details: { reason: string } }) => entry.details.reason).sort(),
    ['no_window_before_deadline', 'unconfirmed_past_deadline'],
    'each reason audited once',
  );
});

t.test('a plan without waves runs the default wave: more than 10 % of its devices failing pauses it', async (t) => {
  const now = new Date('2026-12-06T01:30:00Z');
  const { server, fleet, releaseId } = await setup(t, () => now);
  const tokens: string[] = [];
  for (let index = 0; index < 20; index++) tokens.push(await fleet.addDevice(`emu-${String(index).padStart(2, '0')}`));
  const plan = (
    await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
      customer: 'acme',
      release: releaseId,
      windows: [madrid('2026-12-06T02:00', '2026-12-06T08:00')],
    })
  ).json;
  await server.call('POST', `/api/v1/plans/${plan.id}/propose`, fleet.tokens.support);
  const confirmed = (
    await server.call('POST', `/api/v1/plans/${plan.id}/confirm`, fleet.tokens.customer, {
      window: 0,
      maintainer: { name: 'Ana', phone: '600' },
    })
  ).json;
  t.same(
    confirmed.progress.waves.map((wave: { total: number }) => wave.total),
    [20],
    'one wave of every device',
  );
  const report = async (index: number, state: string) =>
    t.equal(
      (await server.call('POST', '/api/v1/device/events', tokens[index], { assignment: plan.id, state, eventId: randomUUID() })).status,
      204,
    );
  const status = async () => (await server.call('GET', `/api/v1/plans/${plan.id}`, fleet.tokens.support)).json.status;

  await report(0, 'failed');
  for (let index = 1; index < 10; index++) await report(index, 'committed');
  t.equal(await status(), 'in_progress', 'one failure in ten finished is within the 10 % limit');
  await report(10, 'rolled_back');
  t.equal(await status(), 'paused', 'two in eleven is more than 10 %: the plan pauses');
  const audit = server.app.sluice.store.audit;
  t.equal(await audit.count({ subject: `plan:${plan.id}`, action: 'plan.wave_failed' }), 1, 'the wave failed once');
  t.equal(await audit.count({ subject: `plan:${plan.id}`, action: 'plan.pause' }), 1, 'and paused the plan once');
  await report(11, 'failed');
  t.equal(
    await audit.count({ subject: `plan:${plan.id}`, action: 'plan.wave_failed' }),
    1,
    'a later failure does not judge the wave again',
  );
});
