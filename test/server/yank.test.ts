// Yank means stop (issue 15; DESIGN.md, "Trust model"): devices get 410 release_yanked for
// the artifact (staff may still download it), DDI actions on it are cancelled, live plans on
// it pause once with an audit row saying why and cannot resume, and a device that reports a
// commit of it anyway is recorded as such without the plan counting it committed.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { startTestServer, seedFleet, signedManifest, uploadRelease } from '../helpers/server.js';

const now = new Date('2027-01-10T01:10:00Z'); // 02:10 in Madrid, inside the window below
const window = { start: '2027-01-10T02:00', end: '2027-01-10T05:00', timezone: 'Europe/Madrid' };

async function setup(t: Parameters<typeof startTestServer>[0]) {
  const server = await startTestServer(t, { now: () => now });
  const fleet = await seedFleet(server);
  const artifact = randomBytes(4096);
  const release = (
    await uploadRelease(
      server,
      fleet.tokens.release,
      signedManifest(artifact, { product: 'emu', version: '2.0.0', name: 'update.swu' }, [server.keys.release]),
      artifact,
    )
  ).json;
  const tokens: Record<string, string> = {};
  for (const id of ['emu-agent', 'emu-ddi', 'emu-idle']) tokens[id] = await fleet.addDevice(id);
  const plan = async (status: 'draft' | 'confirmed', devices: string[]) => {
    const created = (
      await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
        customer: 'acme',
        release: release.id,
        windows: [window],
        deadline: '2027-02-01T00:00:00Z',
        devices,
      })
    ).json;
    if (status === 'confirmed') {
      await server.call('POST', `/api/v1/plans/${created.id}/propose`, fleet.tokens.support);
      await server.call('POST', `/api/v1/plans/${created.id}/confirm`, fleet.tokens.customer, {
        window: 0,
        maintainer: { name: 'Ana', phone: '600' },
      });
    }
    return created.id as string;
  };
  const ddi = async (method: string, path: string, device: string, body?: object) => {
    const response = await server.app.inject({
      method: method as 'GET',
      url: path,
      headers: { authorization: `TargetToken ${tokens[device]}`, host: 'sluice.test' },
      ...(body ? { payload: body } : {}),
    });
    let json: any = null;
    try {
      json = response.json();
    } catch {
      /* not JSON */
    }
    return { status: response.statusCode, json };
  };
  const yank = () => server.call('POST', `/api/v1/releases/${release.id}/yank`, fleet.tokens.release, { reason: 'bricks meters' });
  const view = async (id: string) => (await server.call('GET', `/api/v1/plans/${id}`, fleet.tokens.support)).json;
  return { server, fleet, release, tokens, plan, ddi, yank, view };
}

t.test('a yanked artifact is gone for devices, on both device APIs; staff still download it', async (t) => {
  const { server, fleet, release, tokens, plan, ddi, yank } = await setup(t);
  await plan('confirmed', ['emu-agent', 'emu-ddi']);
  const artifactUrl = `/api/v1/releases/${release.id}/artifact`;
  const ddiUrl = `/DEFAULT/controller/v1/emu-ddi/softwaremodules/${release.id}/artifacts/update.swu`;
  t.equal((await server.call('GET', artifactUrl, tokens['emu-agent'])).status, 200, 'before the yank the device downloads it');
  t.equal((await ddi('GET', ddiUrl, 'emu-ddi')).status, 200);
  t.equal((await yank()).status, 200);
  for (const [name, response] of [
    ['sluice', await server.call('GET', artifactUrl, tokens['emu-agent'])],
    ['DDI', await ddi('GET', ddiUrl, 'emu-ddi')],
  ] as const) {
    t.equal(response.status, 410, `${name}: 410 Gone`);
    t.equal(response.json.error.code, 'release_yanked');
    t.match(response.json.error.message, /bricks meters/, 'with the reason');
  }
  t.equal(
    (
      await server.app.inject({
        method: 'HEAD',
        url: artifactUrl,
        headers: { authorization: `Bearer ${tokens['emu-agent']}`, range: 'bytes=0-9' },
      })
    ).statusCode,
    410,
    'a resumed download too',
  );
  t.equal((await server.call('GET', artifactUrl, fleet.tokens.release)).status, 200, 'staff may still examine it');
});

t.test('a yank pauses the live plans on it once, saying why; they cannot resume; no plan can be drafted on it', async (t) => {
  const { server, fleet, release, tokens, plan, yank, view } = await setup(t);
  const confirmed = await plan('confirmed', ['emu-agent']);
  const running = await plan('confirmed', ['emu-ddi']);
  // Its device's first report starts it.
  t.equal(
    (await server.call('POST', '/api/v1/device/events', tokens['emu-ddi'], { assignment: running, state: 'downloading' })).status,
    204,
  );
  t.equal((await view(running)).status, 'in_progress');
  const draft = await plan('draft', ['emu-idle']);

  const yanks = await Promise.all([yank(), yank()]);
  t.same(yanks.map((reply) => reply.status).sort(), [200, 409], 'two yanks at once: one is taken');
  t.match(await view(confirmed), { status: 'paused', pausedFrom: 'confirmed' });
  t.match(await view(running), { status: 'paused', pausedFrom: 'in_progress' });
  t.equal((await view(draft)).status, 'draft', 'a draft is not live: left for support to cancel');
  for (const id of [confirmed, running]) {
    const pauses = (await server.call('GET', `/api/v1/audit?subject=plan:${id}&action=plan.pause`, fleet.tokens.support)).json;
    t.equal(pauses.length, 1, 'paused once');
    t.match(
      pauses[0],
      { actor: 'user:release-acme', details: { reason: 'release emu 2.0.0 was yanked: bricks meters', release: release.id } },
      'the audit row says why',
    );
  }
  const resumed = await server.call('POST', `/api/v1/plans/${confirmed}/resume`, fleet.tokens.support);
  t.equal(resumed.status, 410, resumed.body);
  t.equal(resumed.json.error.code, 'release_yanked');
  t.equal((await view(confirmed)).status, 'paused');
  t.equal((await server.call('POST', `/api/v1/plans/${confirmed}/cancel`, fleet.tokens.support)).status, 200, 'cancelling is the way out');
  const another = await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
    customer: 'acme',
    release: release.id,
    windows: [window],
    deadline: '2027-02-01T00:00:00Z',
  });
  t.equal(another.status, 410);
  t.equal(another.json.error.code, 'release_yanked');
});

t.test('a commit of a yanked release, reported by the agent or by DDI feedback, is recorded but not counted committed', async (t) => {
  const { server, release, tokens, plan, ddi, yank, view } = await setup(t);
  const agentPlan = await plan('confirmed', ['emu-agent']);
  const ddiPlan = await plan('confirmed', ['emu-ddi']);
  const { store } = server.app.sluice;
  // Both had started installing before the yank.
  t.equal(
    (await server.call('POST', '/api/v1/device/events', tokens['emu-agent'], { assignment: agentPlan, state: 'installing' })).status,
    204,
  );
  const deployment = (await ddi('GET', '/DEFAULT/controller/v1/emu-ddi', 'emu-ddi')).json._links.deploymentBase.href as string;
  const actionId = Number(/deploymentBase\/(\d+)/.exec(deployment)![1]);
  t.equal(
    (
      await ddi('POST', `/DEFAULT/controller/v1/emu-ddi/deploymentBase/${actionId}/feedback`, 'emu-ddi', {
        status: { execution: 'proceeding', result: { finished: 'none' } },
      })
    ).status,
    200,
  );
  t.equal((await yank()).status, 200);

  const cancel = (await ddi('GET', '/DEFAULT/controller/v1/emu-ddi', 'emu-ddi')).json._links;
  t.notOk(cancel.deploymentBase, 'DDI: no deployment of a yanked release');
  t.match(cancel.cancelAction.href, new RegExp(`/cancelAction/${actionId}$`), 'DDI: its action is cancelled');

  t.equal(
    (
      await server.call('POST', '/api/v1/device/events', tokens['emu-agent'], {
        assignment: agentPlan,
        state: 'committed',
        detail: 'health ok',
      })
    ).status,
    204,
    "the agent's report is taken",
  );
  t.equal(
    (
      await ddi('POST', `/DEFAULT/controller/v1/emu-ddi/deploymentBase/${actionId}/feedback`, 'emu-ddi', {
        status: { execution: 'closed', result: { finished: 'success' } },
      })
    ).status,
    200,
    'and the DDI feedback',
  );

  for (const [device, id] of [
    ['emu-agent', agentPlan],
    ['emu-ddi', ddiPlan],
  ] as const) {
    const progress = (await view(id)).progress;
    t.notOk(progress.byState.committed, `${device}: the plan does not count it committed`);
    t.equal(progress.byState.installing, 1, `${device}: it stays where it was in the plan`);
    const [event] = await store.devices.history(device, 1);
    t.match(event, { state: 'committed', release: release.id }, `${device}: the report is stored as the device made it`);
    t.match(event.detail, /yanked before this commit.*not count it as committed/, `${device}: with a note`);
    t.equal((await store.devices.get(device))?.version, '2.0.0', `${device}: the device's record shows what it runs`);
    t.equal(await store.audit.count({ subject: `plan:${id}`, action: 'plan.yanked_commit' }), 1, `${device}: and the audit log says so`);
    t.equal((await view(id)).status, 'paused', `${device}: the plan stays paused`);
  }
});
