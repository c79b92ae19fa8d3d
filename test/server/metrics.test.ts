// GET /metrics on a real `sluice server` process (docs/metrics.md): scraped over HTTP as
// Prometheus would, before and after real traffic (uploads, a device's check-ins, a download
// whole and in part, its reports, faults), and every figure moved as that traffic says. On
// PostgreSQL too (SLUICE_TEST_DATABASE=postgres). The clock-driven SLA gauge is in
// metrics-sla.test.ts, where the test owns the clock.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startLiveServer, apiClient, seedLiveFleet, publishLive, releaseUpload, confirmedLivePlan } from '../helpers/live-server.js';
import { parseExposition, type Exposition } from '../helpers/prometheus.js';
import { testDialect } from '../helpers/database.js';
import { startTestServer, seedFleet, signedManifest, uploadRelease } from '../helpers/server.js';

t.test('a scrape after real traffic shows that traffic and the fleet', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-metrics-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = await startLiveServer(t, dataDir);
  const api = apiClient(server.url);
  const { tokens, devices } = await seedLiveFleet(api, dataDir, 1);
  const device = devices[0];
  const scrape = async (): Promise<Exposition> => {
    const response = await api.call('GET', '/metrics', tokens.support);
    t.equal(response.status, 200, 'support scrapes');
    t.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return parseExposition(response.bytes.toString());
  };

  t.equal((await api.call('GET', '/metrics', null)).status, 401, 'no token: 401');
  for (const [role, token] of [
    ['customer', tokens.customer],
    ['release', tokens.release],
    ['device', device.token],
  ]) {
    t.equal((await api.call('GET', '/metrics', token)).status, 403, `a ${role} token: 403`);
  }
  const before = await scrape();
  const moved = (after: Exposition, name: string, labels: Record<string, string> = {}) =>
    after.value(name, labels) - before.value(name, labels);

  // Uploads: one accepted, one refused (the same version again).
  const artifact = randomBytes(300_000);
  const release = await publishLive(api, dataDir, tokens.release, '2.0.0', artifact);
  const { payload, contentType } = releaseUpload(dataDir, '2.0.0', artifact);
  const again = await api.call('POST', '/api/v1/releases', tokens.release, payload, { 'content-type': contentType });
  t.equal(again.status, 409, 'the same version again is refused');
  const refusal = again.json.error.code as string;

  // The device checks in (once refused: a nonce that is not hex), downloads, reports.
  const plan = await confirmedLivePlan(api, tokens, release);
  const checkin = await api.call('POST', '/api/v1/device/checkin', device.token, {
    version: '1.0.0',
    nonce: randomBytes(16).toString('hex'),
    state: 'idle',
  });
  t.equal(checkin.status, 200);
  t.equal(checkin.json.signed.assignment?.release, release, 'the check-in assigns the release');
  t.equal((await api.call('POST', '/api/v1/device/checkin', device.token, { version: '1.0.0', nonce: 'not hex' })).status, 400);
  const whole = await api.call('GET', `/api/v1/releases/${release}/artifact`, device.token);
  t.equal(whole.status, 200);
  t.equal(whole.bytes.length, artifact.length);
  const part = await api.call('GET', `/api/v1/releases/${release}/artifact`, device.token, undefined, { range: 'bytes=0-99' });
  t.equal(part.status, 206);
  const report = (eventId: string, state: string, detail?: string) =>
    api.call('POST', '/api/v1/device/events', device.token, { assignment: plan, state, eventId, ...(detail ? { detail } : {}) });
  t.equal((await report('metrics-event-1', 'downloading')).status, 204);
  t.equal((await report('metrics-event-1', 'downloading')).status, 204, 'a resend');
  t.equal((await report('metrics-event-2', 'failed', 'disk full')).status, 204, 'a failure, which opens a class C fault');
  await api.must('POST', '/api/v1/faults', tokens.support, { customer: 'acme', class: 'A', title: 'Meter offline' });

  const after = await scrape();
  t.equal(moved(after, 'sluice_checkins_total', { protocol: 'sluice', outcome: 'answered' }), 1, 'one check-in answered');
  t.equal(moved(after, 'sluice_checkins_total', { protocol: 'sluice', outcome: 'refused' }), 1, 'one refused');
  t.equal(moved(after, 'sluice_uploads_total', { outcome: 'accepted', code: '' }), 1, 'one upload accepted');
  t.equal(moved(after, 'sluice_uploads_total', { outcome: 'refused', code: refusal }), 1, `one refused as ${refusal}`);
  t.equal(
    moved(after, 'sluice_artifact_delivered_bytes_total', { mode: 'stream' }),
    artifact.length + 100,
    'the whole artifact and the 100 bytes of the range',
  );
  t.equal(moved(after, 'sluice_device_events_total', { state: 'downloading' }), 1, 'the resend is not counted again');
  t.equal(moved(after, 'sluice_device_events_total', { state: 'failed' }), 1);

  t.equal(after.value('sluice_faults_open', { class: 'C', status: 'open' }), 1, "the agent's fault");
  t.equal(after.value('sluice_faults_open', { class: 'A', status: 'open' }), 1, 'the staff report');
  t.equal(after.value('sluice_faults_open'), 2, 'no other');
  t.equal(after.value('sluice_sla_breaches'), 0, 'no clock has run out yet');
  const planStatus = (await api.must('GET', `/api/v1/plans/${plan}`, tokens.support)).status as string;
  t.same(
    after
      .series('sluice_plans')
      .filter((sample) => sample.value > 0)
      .map((sample) => sample.labels),
    [{ kind: 'upgrade', status: planStatus }],
    `one plan, ${planStatus} as the API says`,
  );
  t.equal(after.series('sluice_plans').length, 16, 'every kind and status, absent ones at 0');
  t.equal(after.value('sluice_checkin_signer_queue_depth'), 0, 'no signature waiting');

  const requests = (labels: Record<string, string>) => moved(after, 'sluice_http_request_duration_seconds_count', labels);
  t.equal(requests({ method: 'POST', route: '/api/v1/device/checkin', status: '200' }), 1);
  t.equal(requests({ method: 'GET', route: '/api/v1/releases/:id/artifact', status: '200' }), 1, 'labelled by the route pattern');
  t.equal(requests({ method: 'GET', route: '/api/v1/releases/:id/artifact', status: '206' }), 1);
  t.ok(after.value('sluice_http_request_duration_seconds_sum', { route: '/api/v1/releases/:id/artifact' }) > 0, 'durations in seconds');
  t.equal(
    before.value('sluice_http_request_duration_seconds_count', { route: '/metrics', status: '401' }),
    1,
    'refused scrapes are timed too',
  );
  t.equal(before.value('sluice_http_request_duration_seconds_count', { route: '/metrics', status: '403' }), 3);
  const routes = new Set(after.series('sluice_http_request_duration_seconds_count').map((sample) => sample.labels.route));
  t.notOk(
    [...routes].some((route) => route.includes(release) || route.includes(device.id) || route.includes(plan)),
    `no id in a route label: ${[...routes].join(' ')}`,
  );

  for (const kind of ['get', 'all', 'run', 'transaction']) {
    t.ok(
      moved(after, 'sluice_db_statement_duration_seconds_count', { dialect: testDialect, kind }) > 0,
      `${testDialect} ${kind} statements timed`,
    );
  }
  t.equal(
    after.series('sluice_db_statement_duration_seconds_count').filter((sample) => sample.labels.dialect !== testDialect).length,
    0,
    'one dialect',
  );
  await server.stop();
});

t.test('a DDI controller poll counts as a check-in', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-metrics-ddi-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = await startLiveServer(t, dataDir);
  const api = apiClient(server.url);
  const { tokens, devices } = await seedLiveFleet(api, dataDir, 1);
  const poll = (token: string) =>
    api.call('GET', `/DEFAULT/controller/v1/${devices[0].id}`, null, undefined, { authorization: `TargetToken ${token}` });
  t.equal((await poll(devices[0].token)).status, 200);
  t.equal((await poll('not-a-token')).status, 401);
  const scraped = parseExposition((await api.call('GET', '/metrics', tokens.admin)).bytes.toString());
  t.equal(scraped.value('sluice_checkins_total', { protocol: 'ddi', outcome: 'answered' }), 1);
  t.equal(scraped.value('sluice_checkins_total', { protocol: 'ddi', outcome: 'refused' }), 1);
  t.equal(scraped.value('sluice_http_request_duration_seconds_count', { route: '/:tenant/controller/v1/:controllerId' }), 2);
  await server.stop();
});

t.test('a transfer handed to nginx counts the bytes asked for; HEAD and 304 count none', async (t) => {
  const server = await startTestServer(t, { artifactDelivery: { mode: 'x-accel-redirect', internalPrefix: '/protected' } });
  const fleet = await seedFleet(server);
  const artifact = randomBytes(5000);
  const upload = await uploadRelease(
    server,
    fleet.tokens.release,
    signedManifest(artifact, { product: 'emu', version: '2.0.0' }, [server.keys.release]),
    artifact,
  );
  t.equal(upload.status, 201);
  const url = `/api/v1/releases/${upload.json.id}/artifact`;
  const get = (headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') =>
    server.app.inject({ method, url, headers: { authorization: `Bearer ${fleet.tokens.support}`, ...headers } });
  t.match((await get()).headers['x-accel-redirect'], /^\/protected\//);
  await get({ range: 'bytes=10-19' });
  await get({}, 'HEAD');
  t.equal((await get({ 'if-none-match': `"${upload.json.sha256}"` })).statusCode, 304);
  const scraped = parseExposition((await server.call('GET', '/metrics', fleet.tokens.support)).body);
  t.equal(scraped.value('sluice_artifact_delivered_bytes_total', { mode: 'x-accel-redirect' }), 5000 + 10);
  t.equal(scraped.series('sluice_artifact_delivered_bytes_total', { mode: 'stream' }).length, 0, 'nothing streamed by Node');
});
