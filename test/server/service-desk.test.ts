// Service desk through the API with the clock controlled (issue: service desk, "Done means").
import t from 'tap';
import { randomBytes, randomUUID } from 'node:crypto';
import { startTestServer, seedFleet, signedManifest, uploadRelease, multipartBody } from '../helpers/server.js';

const minutes = (n: number) => n * 60_000;

t.test('fault clocks: a class A fault acknowledged late is a breach; the SLA report shows it', async (t) => {
  let now = new Date('2026-12-01T10:00:00Z');
  const server = await startTestServer(t, { now: () => now });
  const fleet = await seedFleet(server);
  const report = (body: object, token = fleet.tokens.customer) => server.call('POST', '/api/v1/faults', token, body);

  const late = (await report({ class: 'A', severity: 'major', title: 'Site dark', description: 'No telemetry' })).json;
  t.match(late, {
    id: 'F-1001',
    status: 'open',
    class: 'A',
    customer: 'acme',
    due: { acknowledgeBy: '2026-12-01T10:15:00.000Z', resolveBy: '2026-12-01T11:00:00.000Z' },
    breached: false,
  });
  const onTime = (await report({ class: 'B', title: 'Slow charts' })).json;
  t.match(onTime.due, { acknowledgeBy: '2026-12-01T10:30:00.000Z', resolveBy: '2026-12-01T12:00:00.000Z' }, 'B general: 30 min, then 2 h');
  const minor = (await report({ class: 'D', title: 'Typo in a label' })).json;
  t.match(minor.due, { acknowledgeBy: '2026-12-01T12:00:00.000Z', resolveBy: null }, 'D: 2 h to start; no resolution clock');

  now = new Date(now.getTime() + minutes(16));
  t.equal(
    (await server.call('GET', `/api/v1/faults/${late.id}`, fleet.tokens.support)).json.breached,
    true,
    'unacknowledged past 15 min: breached',
  );
  await server.call('POST', `/api/v1/faults/${late.id}/acknowledge`, fleet.tokens.support);
  await server.call('POST', `/api/v1/faults/${onTime.id}/acknowledge`, fleet.tokens.support);
  now = new Date(now.getTime() + minutes(20));
  const resolved = (
    await server.call('POST', `/api/v1/faults/${late.id}/resolve`, fleet.tokens.support, { resolution: 'Replaced the modem' })
  ).json;
  t.match(resolved, { status: 'resolved', breaches: { acknowledge: true, resolve: false } }, 'acknowledged late, resolved within the hour');
  t.equal((await server.call('POST', `/api/v1/faults/${late.id}/close`, fleet.tokens.customer)).json.status, 'closed');

  const sla = (await server.call('GET', '/api/v1/sla/report?from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z', fleet.tokens.support)).json;
  t.match(sla.classes.A, {
    count: 1,
    acknowledge: { medianSeconds: 960, p95Seconds: 960, metShare: 0 },
    resolve: { medianSeconds: 2160, metShare: 1 },
    breaches: [{ id: late.id, acknowledge: true, resolve: false }],
  });
  t.match(sla.classes.B, { count: 1, acknowledge: { medianSeconds: 960, metShare: 1 }, breaches: [] });
  t.match(sla.classes.D, { count: 1, acknowledge: { metShare: null } }, 'D is not yet decided: its 2 hours have not passed');
  t.equal(sla.classes.C.count, 0);
  const audit = (await server.call('GET', `/api/v1/audit?subject=fault:${late.id}`, fleet.tokens.support)).json
    .map((entry: { action: string }) => entry.action)
    .reverse();
  t.same(audit, ['fault.open', 'fault.acknowledge', 'fault.resolve', 'fault.close'], 'each transition timed and audited');

  // Customers see only their own.
  await server.call('POST', '/api/v1/customers', server.adminToken, { id: 'globex', name: 'Globex', timezone: 'UTC' });
  const globex = (await server.call('POST', '/api/v1/users', server.adminToken, { username: 'g', role: 'customer', customer: 'globex' }))
    .json.token;
  t.same((await server.call('GET', '/api/v1/faults', globex)).json, []);
  t.equal((await server.call('GET', `/api/v1/faults/${late.id}`, globex)).status, 404);
  t.equal((await server.call('GET', '/api/v1/sla/report', globex)).json.classes.A.count, 0);

  const faultCount = async () => (await server.app.sluice.store.faults.list()).length;
  const before = await faultCount();
  const refusals: [string, object, string, number][] = [
    ['a class outside A–D', { class: 'E', title: 'x' }, fleet.tokens.customer, 400],
    ['a lower-case class', { class: 'a', title: 'x' }, fleet.tokens.customer, 400],
    ["another customer's device", { class: 'C', title: 'x', device: 'nope' }, fleet.tokens.customer, 422],
    ['staff without a customer', { class: 'C', title: 'x' }, fleet.tokens.support, 400],
  ];
  for (const [why, body, token, status] of refusals) t.equal((await report(body, token)).status, status, why);
  t.equal(await faultCount(), before, 'nothing stored');
  t.equal(
    (await server.call('POST', `/api/v1/faults/${onTime.id}/acknowledge`, fleet.tokens.customer)).status,
    403,
    'customers do not acknowledge',
  );
  t.equal((await server.call('POST', `/api/v1/faults/${onTime.id}/close`, globex)).status, 404, "nor touch another customer's fault");
  t.equal((await server.call('POST', `/api/v1/faults/${onTime.id}/acknowledge`, fleet.tokens.support)).status, 409, 'acknowledged twice');
});

t.test('a release that fixes a class C fault drafts plans for exactly the affected customers', async (t) => {
  const now = new Date('2026-12-01T10:00:00Z');
  const server = await startTestServer(t, { now: () => now });
  const acme = await seedFleet(server, { customer: 'acme' });
  await acme.addDevice('acme-1');
  for (const customer of ['globex', 'initech']) {
    await server.call('POST', '/api/v1/customers', server.adminToken, { id: customer, name: customer, timezone: 'Asia/Shanghai' });
    await server.call('POST', '/api/v1/devices', server.adminToken, {
      id: `${customer}-1`,
      customer,
      product: 'emu',
      hardware: 'emu-hw-1',
      version: '1.0.0',
    });
  }
  const fault = (customer: string) =>
    server.call('POST', '/api/v1/faults', acme.tokens.support, { customer, class: 'C', title: 'Meter drift' });
  const acmeFault = (await fault('acme')).json.id;
  const globexFault = (await fault('globex')).json.id;
  const artifact = randomBytes(512);
  const release = await uploadRelease(
    server,
    acme.tokens.release,
    signedManifest(artifact, { product: 'emu', version: '1.1.0', fixes: [acmeFault, globexFault] }, [server.keys.release]),
    artifact,
  );
  t.equal(release.status, 201);
  for (const id of [acmeFault, globexFault]) {
    t.match((await server.call('GET', `/api/v1/faults/${id}`, acme.tokens.support)).json, {
      status: 'fix_available',
      fixRelease: release.json.id,
    });
  }
  const plans = (await server.call('GET', '/api/v1/plans', acme.tokens.support)).json;
  t.same(plans.map((plan: { customer: string }) => plan.customer).sort(), ['acme', 'globex'], 'initech had no such fault: no plan');
  t.ok(
    plans.every((plan: { status: string; release: string }) => plan.status === 'draft' && plan.release === release.json.id),
    'left as drafts for support',
  );
});

t.test('a failed update opens a class C fault for the device, linked to the plan', async (t) => {
  const now = new Date('2026-12-06T01:30:00Z');
  const server = await startTestServer(t, { now: () => now });
  const fleet = await seedFleet(server);
  const token = await fleet.addDevice('emu-1');
  const artifact = randomBytes(256);
  const release = await uploadRelease(
    server,
    fleet.tokens.release,
    signedManifest(artifact, { product: 'emu', version: '2.0.0' }, [server.keys.release]),
    artifact,
  );
  const plan = (
    await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
      customer: 'acme',
      release: release.json.id,
      windows: [{ start: '2026-12-06T02:00', end: '2026-12-06T05:00', timezone: 'Europe/Madrid' }],
    })
  ).json;
  await server.call('POST', `/api/v1/plans/${plan.id}/propose`, fleet.tokens.support);
  await server.call('POST', `/api/v1/plans/${plan.id}/confirm`, fleet.tokens.customer, {
    window: 0,
    maintainer: { name: 'A', phone: '600' },
  });
  await server.call('POST', '/api/v1/device/events', token, {
    assignment: plan.id,
    state: 'rolled_back',
    detail: 'health_failed: exit 1',
    eventId: randomUUID(),
  });
  await server.call('POST', '/api/v1/device/events', token, {
    assignment: plan.id,
    state: 'rolled_back',
    detail: 'again',
    eventId: randomUUID(),
  });
  const faults = (await server.call('GET', '/api/v1/faults', fleet.tokens.support)).json;
  t.equal(faults.length, 1, 'one fault per failed update');
  t.match(faults[0], {
    class: 'C',
    device: 'emu-1',
    plan: plan.id,
    source: 'agent',
    customer: 'acme',
    description: 'health_failed: exit 1',
  });
});

t.test('remote support: diagnostics only with live consent, never after it expires', async (t) => {
  let now = new Date('2026-12-01T10:00:00Z');
  const server = await startTestServer(t, { now: () => now });
  const fleet = await seedFleet(server);
  const token = await fleet.addDevice('emu-1');
  await server.call('POST', '/api/v1/customers', server.adminToken, { id: 'globex', name: 'Globex', timezone: 'UTC' });
  const globex = (await server.call('POST', '/api/v1/users', server.adminToken, { username: 'g', role: 'customer', customer: 'globex' }))
    .json.token;
  const checkin = async () =>
    (await server.call('POST', '/api/v1/device/checkin', token, { version: '1.0.0', nonce: randomBytes(16).toString('hex') })).json.signed
      .diagnostics;
  const upload = async (session: string, content: Buffer = Buffer.from('bundle')) => {
    const { payload, contentType } = multipartBody([{ name: 'bundle', filename: 'd.gz', content }]);
    return server.app.inject({
      method: 'POST',
      url: `/api/v1/device/diagnostics/${session}`,
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      payload,
    });
  };

  const session = (
    await server.call('POST', '/api/v1/support-sessions', fleet.tokens.support, {
      device: 'emu-1',
      reason: 'Meter drift on site',
      collect: ['logs', 'system'],
    })
  ).json;
  t.equal(session.status, 'requested');
  t.equal(await checkin(), null, 'inert until the customer consents');
  t.equal((await upload(session.id)).statusCode, 403, 'an upload without consent is refused');
  t.equal(
    (await server.call('POST', `/api/v1/support-sessions/${session.id}/consent`, globex, {})).status,
    404,
    'another customer cannot consent',
  );
  t.equal(
    (await server.call('POST', `/api/v1/support-sessions/${session.id}/consent`, fleet.tokens.support, {})).status,
    403,
    'support cannot consent for the customer',
  );

  const consented = (await server.call('POST', `/api/v1/support-sessions/${session.id}/consent`, fleet.tokens.customer, {})).json;
  t.match(consented, { status: 'consented', expiresAt: '2026-12-02T10:00:00.000Z' }, 'consent lasts 24 hours by default');
  t.same(await checkin(), { session: session.id, collect: ['logs', 'system'] }, 'now the check-in asks for diagnostics');

  now = new Date('2026-12-02T10:00:01Z');
  t.equal(await checkin(), null, 'not after the consent expired');
  const expired = await upload(session.id);
  t.equal(expired.statusCode, 403);
  t.match(expired.json().error, { code: 'consent_required', message: /expired/ });

  // A second session: consent, upload once, download, all audited.
  const second = (
    await server.call('POST', '/api/v1/support-sessions', fleet.tokens.support, {
      device: 'emu-1',
      reason: 'Follow-up',
      collect: ['journal'],
    })
  ).json;
  await server.call('POST', `/api/v1/support-sessions/${second.id}/consent`, fleet.tokens.customer, { hours: 2 });
  t.equal((await upload(second.id, Buffer.alloc(21 * 1024 * 1024))).statusCode, 413, 'a bundle over the limit is refused');
  t.equal(
    (await server.call('GET', `/api/v1/support-sessions/${second.id}`, fleet.tokens.support)).json.status,
    'consented',
    'and nothing was stored',
  );
  t.equal((await upload(second.id, Buffer.from('the logs'))).statusCode, 204);
  t.equal((await upload(second.id)).statusCode, 403, 'one bundle per session');
  const bundle = await server.app.inject({
    method: 'GET',
    url: `/api/v1/support-sessions/${second.id}/bundle`,
    headers: { authorization: `Bearer ${fleet.tokens.support}` },
  });
  t.equal(bundle.body, 'the logs');
  const third = (
    await server.call('POST', '/api/v1/support-sessions', fleet.tokens.support, { device: 'emu-1', reason: 'x', collect: ['logs'] })
  ).json;
  await server.call('POST', `/api/v1/support-sessions/${third.id}/consent`, fleet.tokens.customer, {});
  t.equal((await server.call('POST', `/api/v1/support-sessions/${third.id}/withdraw`, fleet.tokens.customer, {})).json.status, 'withdrawn');
  t.equal((await upload(third.id)).statusCode, 403, 'not after consent was withdrawn');
  const fourth = (
    await server.call('POST', '/api/v1/support-sessions', fleet.tokens.support, { device: 'emu-1', reason: 'x', collect: ['logs'] })
  ).json;
  t.equal((await server.call('POST', `/api/v1/support-sessions/${fourth.id}/refuse`, fleet.tokens.customer, {})).json.status, 'refused');
  const actions = (await server.call('GET', '/api/v1/audit?action=support.download', fleet.tokens.support)).json;
  t.equal(actions.length, 1, 'the download is audited');
  const all = (await server.call('GET', '/api/v1/audit', fleet.tokens.support)).json.map((entry: { action: string }) => entry.action);
  for (const action of ['support.request', 'support.consent', 'support.refuse', 'support.withdraw', 'support.upload'])
    t.ok(all.includes(action), `${action} audited`);
});

t.test('a commissioning plan follows the same propose and confirm lifecycle and document', async (t) => {
  const now = new Date('2026-12-01T10:00:00Z');
  const server = await startTestServer(t, { now: () => now });
  const fleet = await seedFleet(server);
  const created = await server.call('POST', '/api/v1/commissioning', fleet.tokens.support, {
    customer: 'acme',
    mode: 'on_site',
    date: '2026-12-10T08:00:00Z',
    equipment: [{ type: 'EMU-3000', count: 4 }],
    services: ['wiring check', 'meter calibration'],
    engineers: [{ name: 'Luis', phone: '+34 611' }],
    windows: [{ start: '2026-12-10T09:00', end: '2026-12-10T17:00', timezone: 'Europe/Madrid' }],
  });
  t.equal(created.status, 201, created.body);
  t.match(created.json, { kind: 'commissioning', status: 'draft', release: null });
  await server.call('POST', `/api/v1/plans/${created.json.id}/propose`, fleet.tokens.support);
  const document = (await server.call('GET', `/api/v1/plans/${created.json.id}/document`, fleet.tokens.customer)).body;
  t.match(document, /Commissioning plan/);
  t.match(document, /EMU-3000/);
  t.match(document, /Luis/);
  const confirmed = await server.call('POST', `/api/v1/plans/${created.json.id}/confirm`, fleet.tokens.customer, {
    window: 0,
    maintainer: { name: 'Ana', phone: '600' },
  });
  t.equal(confirmed.json.status, 'confirmed');
  t.equal(
    (
      await server.call('POST', '/api/v1/commissioning', fleet.tokens.support, {
        customer: 'acme',
        mode: 'on_site',
        date: '2026-11-01T08:00:00Z',
        equipment: [{ type: 'x', count: 1 }],
        services: [],
        engineers: [{ name: 'L' }],
        windows: [{ start: '2026-12-10T09:00', end: '2026-12-10T17:00', timezone: 'Europe/Madrid' }],
      })
    ).status,
    400,
    'a date in the past',
  );
});

t.test('timed work and races are recorded once: consent expiry, concurrent steps, fault numbers', async (t) => {
  let now = new Date('2026-12-01T10:00:00Z');
  const server = await startTestServer(t, { now: () => now });
  const fleet = await seedFleet(server);
  const token = await fleet.addDevice('emu-1');
  const { store } = server.app.sluice;
  const audits = (action: string, subject?: string) => store.audit.count({ action, subject });

  // Ten reports at once take ten consecutive numbers.
  const reports = await Promise.all(
    Array.from({ length: 10 }, (_, index) =>
      server.call('POST', '/api/v1/faults', fleet.tokens.customer, { class: 'C', title: `Fault ${index}` }),
    ),
  );
  t.same(
    reports.map((reply) => reply.status),
    Array(10).fill(201),
  );
  t.same(
    reports.map((reply) => reply.json.id).sort(),
    Array.from({ length: 10 }, (_, index) => `F-${1001 + index}`),
    'distinct, consecutive ids',
  );

  // Five acknowledgements at once: one is taken and audited, the others are refused.
  const acknowledged = await Promise.all(
    Array.from({ length: 5 }, () => server.call('POST', '/api/v1/faults/F-1001/acknowledge', fleet.tokens.support)),
  );
  t.same(acknowledged.map((reply) => reply.status).sort(), [200, 409, 409, 409, 409]);
  t.equal(await audits('fault.acknowledge', 'fault:F-1001'), 1, 'one step, one audit row');

  const session = (
    await server.call('POST', '/api/v1/support-sessions', fleet.tokens.support, { device: 'emu-1', reason: 'Drift', collect: ['logs'] })
  ).json;
  const consents = await Promise.all(
    Array.from({ length: 3 }, () =>
      server.call('POST', `/api/v1/support-sessions/${session.id}/consent`, fleet.tokens.customer, { hours: 1 }),
    ),
  );
  t.same(consents.map((reply) => reply.status).sort(), [200, 409, 409], 'consented once');
  t.equal(await audits('support.consent', `support-session:${session.id}`), 1);

  // Past the expiry, every reader sees it expired; the first to notice records it, once.
  now = new Date('2026-12-01T11:00:00Z');
  t.equal((await store.supportSessions.get(session.id))!.status, 'consented', 'nothing is recorded before someone reads it');
  const checkin = () => server.call('POST', '/api/v1/device/checkin', token, { version: '1.0.0', nonce: randomBytes(16).toString('hex') });
  const reads = await Promise.all([
    ...Array.from({ length: 4 }, () => server.call('GET', `/api/v1/support-sessions/${session.id}`, fleet.tokens.support)),
    server.call('GET', '/api/v1/support-sessions', fleet.tokens.customer),
    checkin(),
    checkin(),
  ]);
  t.ok(
    reads.slice(0, 4).every((reply) => reply.json.status === 'expired'),
    'expired for every reader',
  );
  t.equal(reads[4].json[0].status, 'expired');
  t.ok(
    reads.slice(5).every((reply) => reply.json.signed.diagnostics === null),
    'no diagnostics asked for',
  );
  t.equal((await store.supportSessions.get(session.id))!.status, 'expired', 'recorded in the store');
  t.equal(await audits('support.consent_expired', `support-session:${session.id}`), 1, 'and audited once');
  await server.call('GET', '/api/v1/support-sessions', fleet.tokens.support);
  t.equal(await audits('support.consent_expired'), 1, 'later reads record nothing');
  t.equal(
    (await server.call('POST', `/api/v1/support-sessions/${session.id}/withdraw`, fleet.tokens.customer, {})).status,
    409,
    'an expired consent cannot be withdrawn',
  );
});
