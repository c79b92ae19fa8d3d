// The parts of the DDI API that SWUpdate does not exercise, through inject (issue: hawkBit
// DDI): gateway tokens, bad credentials, other tenants, feedback rules, cancel actions,
// artifacts with Range, .MD5SUM and ETag, hashes, the polling interval, the mapping table.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { startTestServer, seedFleet, signedManifest, uploadRelease } from '../helpers/server.js';
import { feedbackTable, stateForFeedback, pollingSleep, executions, finishedValues } from '../../server/domain/ddi.js';
import { errorCode } from '../helpers/errors.js';

async function setup(t: Parameters<typeof startTestServer>[0], minutesIntoWindow: number) {
  const now = new Date(new Date('2027-01-10T01:00:00Z').getTime() + minutesIntoWindow * 60_000);
  const server = await startTestServer(t, { now: () => now, pollSeconds: 300 });
  const fleet = await seedFleet(server);
  const token = await fleet.addDevice('emu-1');
  await fleet.addDevice('emu-2');
  const artifact = randomBytes(10_000);
  const release = (
    await uploadRelease(
      server,
      fleet.tokens.release,
      signedManifest(artifact, { product: 'emu', version: '2.0.0', name: 'update.swu' }, [server.keys.release]),
      artifact,
    )
  ).json;
  const plan = (
    await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
      customer: 'acme',
      release: release.id,
      windows: [{ start: '2027-01-10T02:00', end: '2027-01-10T05:00', timezone: 'Europe/Madrid' }],
      deadline: '2027-02-01T00:00:00Z',
    })
  ).json;
  await server.call('POST', `/api/v1/plans/${plan.id}/propose`, fleet.tokens.support);
  await server.call('POST', `/api/v1/plans/${plan.id}/confirm`, fleet.tokens.customer, {
    window: 0,
    maintainer: { name: 'A', phone: '600' },
  });
  const ddi = async (
    method: string,
    path: string,
    authorization: string | null = `TargetToken ${token}`,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await server.app.inject({
      method: method as 'GET',
      url: path,
      headers: { ...(authorization ? { authorization } : {}), accept: 'application/json', host: 'sluice.test', ...headers },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    let json: any = null;
    try {
      json = response.json();
    } catch {
      /* not JSON */
    }
    return { status: response.statusCode, json, body: response.rawPayload, headers: response.headers };
  };
  return { server, fleet, token, artifact, release, plan, ddi };
}

t.test('inside the window: base links, deployment with hashes, artifact with Range and MD5SUM, feedback', async (t) => {
  const { server, fleet, artifact, release, plan, ddi } = await setup(t, 10);
  const base = await ddi('GET', '/DEFAULT/controller/v1/emu-1');
  t.equal(base.status, 200);
  t.equal(base.json.config.polling.sleep, '00:05:00', 'HH:mm:ss');
  t.match(
    base.json._links.deploymentBase.href,
    /^http:\/\/sluice\.test\/DEFAULT\/controller\/v1\/emu-1\/deploymentBase\/\d+\?c=/,
    'absolute HAL links',
  );
  const deploymentUrl = new URL(base.json._links.deploymentBase.href);
  const deployment = await ddi('GET', deploymentUrl.pathname + deploymentUrl.search);
  t.match(deployment.json.deployment, { download: 'forced', update: 'forced', maintenanceWindow: 'available' });
  const file = deployment.json.deployment.chunks[0].artifacts[0];
  t.same(file.hashes, {
    sha1: createHash('sha1').update(artifact).digest('hex'),
    md5: createHash('md5').update(artifact).digest('hex'),
    sha256: createHash('sha256').update(artifact).digest('hex'),
  });
  t.equal(file.size, artifact.length);
  const artifactPath = new URL(file._links['download-http'].href).pathname;
  const full = await ddi('GET', artifactPath);
  t.ok(full.body.equals(artifact));
  t.equal(full.headers.etag, `"${release.sha256}"`);
  const ranged = await ddi('GET', artifactPath, undefined, undefined, { range: 'bytes=9000-' });
  t.equal(ranged.status, 206);
  t.ok(ranged.body.equals(artifact.subarray(9000)));
  const md5 = await ddi('GET', new URL(file._links.md5sum.href).pathname);
  t.equal(md5.body.toString(), `${file.hashes.md5}  update.swu\n`);
  t.equal((await ddi('GET', artifactPath, 'TargetToken nope')).status, 401);

  const feedback = (execution: string, finished: string, actionId = deployment.json.id, authorization?: string) =>
    ddi('POST', `/DEFAULT/controller/v1/emu-1/deploymentBase/${actionId}/feedback`, authorization, {
      id: actionId,
      status: { execution, result: { finished }, details: ['step'] },
    });
  t.equal((await feedback('downloading', 'none')).status, 200);
  t.equal((await feedback('proceeding', 'none')).status, 200);
  const before = (await server.call('GET', `/api/v1/plans/${plan.id}`, fleet.tokens.support)).json.progress.byState;
  t.equal(
    (
      await ddi('POST', `/DEFAULT/controller/v1/emu-1/deploymentBase/${deployment.json.id}/feedback`, undefined, {
        status: { execution: 'finished' },
      })
    ).status,
    400,
    'malformed feedback',
  );
  t.equal(
    (
      await ddi('POST', `/DEFAULT/controller/v1/emu-2/deploymentBase/${deployment.json.id}/feedback`, null, {
        status: { execution: 'closed', result: { finished: 'success' } },
      })
    ).status,
    401,
    'no token',
  );
  t.same(
    (await server.call('GET', `/api/v1/plans/${plan.id}`, fleet.tokens.support)).json.progress.byState,
    before,
    'bad feedback changed nothing',
  );
  t.equal((await feedback('closed', 'success')).status, 200);
  const view = (await server.call('GET', `/api/v1/plans/${plan.id}`, fleet.tokens.support)).json;
  t.equal(view.progress.byState.committed, 1, 'counts toward the same plan');
  t.equal((await server.call('GET', '/api/v1/devices/emu-1', fleet.tokens.support)).json.device.version, '2.0.0');
  const gone = await feedback('closed', 'success');
  t.equal(gone.status, 410, 'feedback for a closed action is 410 Gone');
  t.equal(gone.json.error.code, 'action_closed');
  t.notOk((await ddi('GET', '/DEFAULT/controller/v1/emu-1')).json._links.deploymentBase, 'nothing more to do');
  t.equal(
    (await ddi('PUT', '/DEFAULT/controller/v1/emu-1/configData', undefined, { mode: 'merge', data: { hwRevision: '2' } })).status,
    200,
  );
});

t.test('credentials, tenants and gateway tokens', async (t) => {
  const { server, fleet, ddi } = await setup(t, 10);
  t.equal((await ddi('GET', '/DEFAULT/controller/v1/emu-1', null)).status, 401, 'no token');
  t.equal((await ddi('GET', '/DEFAULT/controller/v1/emu-1', 'TargetToken wrong')).status, 401, 'wrong token');
  t.equal((await ddi('GET', '/DEFAULT/controller/v1/emu-2')).status, 401, "another controller's token");
  t.equal((await ddi('GET', '/OTHER/controller/v1/emu-1')).status, 404, 'another tenant');
  t.equal((await ddi('GET', '/DEFAULT/controller/v1/emu-1', `Bearer ${fleet.tokens.admin}`)).status, 401, 'API tokens are not DDI tokens');
  const gateway = (await server.call('POST', '/api/v1/ddi/gateway-tokens', fleet.tokens.support, { customer: 'acme' })).json;
  t.match(gateway, { tenant: 'DEFAULT', token: /^g_/ });
  t.equal(
    (await ddi('GET', '/DEFAULT/controller/v1/emu-2', `GatewayToken ${gateway.token}`)).status,
    200,
    'a gateway token acts for any controller of its customer',
  );
  t.equal((await ddi('GET', '/DEFAULT/controller/v1/ghost', `GatewayToken ${gateway.token}`)).status, 404);
  t.equal((await server.call('POST', `/api/v1/ddi/gateway-tokens/${gateway.id}/revoke`, fleet.tokens.support)).status, 200);
  t.equal((await ddi('GET', '/DEFAULT/controller/v1/emu-2', `GatewayToken ${gateway.token}`)).status, 401, 'revoked');
  t.equal((await server.call('POST', '/api/v1/ddi/gateway-tokens', fleet.tokens.customer, { customer: 'acme' })).status, 403);
  const emu2Base = (await ddi('GET', '/DEFAULT/controller/v1/emu-1')).json._links.deploymentBase.href;
  const actionId = /deploymentBase\/(\d+)/.exec(emu2Base)![1];
  const stranger = await server.app.inject({
    method: 'POST',
    url: `/DEFAULT/controller/v1/emu-2/deploymentBase/${actionId}/feedback`,
    headers: {
      authorization: `GatewayToken ${(await server.call('POST', '/api/v1/ddi/gateway-tokens', fleet.tokens.support, { customer: 'acme' })).json.token}`,
    },
    payload: { status: { execution: 'closed', result: { finished: 'failure' } } },
  });
  t.equal(stranger.statusCode, 404, "feedback for an action that is not the controller's");
});

t.test('outside the window no deployment is offered, polling shortens; a cancelled plan becomes a cancel action', async (t) => {
  const { ddi } = await setup(t, -10);
  const base = (await ddi('GET', '/DEFAULT/controller/v1/emu-1')).json;
  t.notOk(base._links.deploymentBase, 'no deployment before the window');
  t.equal(base.config.polling.sleep, '00:05:00', 'the window opens in 10 minutes: the regular 5 minutes');
  const { server: inside, ddi: insideDdi, plan: insidePlan, fleet: insideFleet } = await setup(t, 1);
  const offered = (await insideDdi('GET', '/DEFAULT/controller/v1/emu-1')).json._links.deploymentBase.href;
  await inside.call('POST', `/api/v1/plans/${insidePlan.id}/cancel`, insideFleet.tokens.support);
  const cancelled = (await insideDdi('GET', '/DEFAULT/controller/v1/emu-1')).json;
  t.notOk(cancelled._links.deploymentBase);
  const cancelPath = new URL(cancelled._links.cancelAction.href).pathname;
  t.match((await insideDdi('GET', cancelPath)).json, { cancelAction: { stopId: /\d+/ } });
  t.equal(
    (await insideDdi('POST', `${cancelPath}/feedback`, undefined, { status: { execution: 'closed', result: { finished: 'success' } } }))
      .status,
    200,
  );
  t.notOk((await insideDdi('GET', '/DEFAULT/controller/v1/emu-1')).json._links.cancelAction, 'the cancel is done');
  t.ok(offered);
});

t.test('the mapping table and the polling format', async (t) => {
  for (const execution of executions)
    for (const finished of finishedValues) t.type(stateForFeedback(execution, finished).state, 'string', `${execution}/${finished} maps`);
  t.same(stateForFeedback('closed', 'success'), { state: 'committed', closesAction: true });
  t.same(stateForFeedback('closed', 'failure'), { state: 'failed', closesAction: true });
  t.same(stateForFeedback('downloading', 'none'), { state: 'downloading', closesAction: false });
  t.same(stateForFeedback('scheduled', 'none'), { state: 'waiting_window', closesAction: false });
  t.equal(
    errorCode(() => stateForFeedback('finished', 'none')),
    'validation_failed',
  );
  t.ok(feedbackTable.length >= executions.length);
  t.equal(pollingSleep(300), '00:05:00');
  t.equal(pollingSleep(3661), '01:01:01');
  t.equal(pollingSleep(0.2), '00:00:01');
});

t.test('races on one controller move its action once; a yanked release turns the deployment into a cancel action', async (t) => {
  const { server, fleet, release, gateway, ddi } = await setup(t, 10).then(async (world) => ({
    ...world,
    gateway: (await world.server.call('POST', '/api/v1/ddi/gateway-tokens', world.fleet.tokens.support, { customer: 'acme' })).json
      .token as string,
  }));
  const { store } = server.app.sluice;
  const polls = await Promise.all(Array.from({ length: 5 }, () => ddi('GET', '/DEFAULT/controller/v1/emu-1')));
  const hrefs = new Set(polls.map((poll) => poll.json._links.deploymentBase.href));
  t.equal(hrefs.size, 1, 'concurrent polls share one action');
  const actionId = Number(/deploymentBase\/(\d+)/.exec([...hrefs][0])![1]);
  t.equal((await ddi('GET', new URL([...hrefs][0]).pathname)).status, 200);

  const closing = await Promise.all(
    Array.from({ length: 3 }, () =>
      ddi('POST', `/DEFAULT/controller/v1/emu-1/deploymentBase/${actionId}/feedback`, undefined, {
        status: { execution: 'closed', result: { finished: 'success' } },
      }),
    ),
  );
  t.same(closing.map((reply) => reply.status).sort(), [200, 410, 410], 'closed once; the others are told it is gone');
  t.equal((await store.devices.history('emu-1')).filter((event) => event.state === 'committed').length, 1, 'one commit recorded');
  t.equal((await store.ddi.action(actionId))!.status, 'closed');

  // emu-2 has its deployment; then the release is yanked before it installs.
  const asGateway = `GatewayToken ${gateway}`;
  const offered = (await ddi('GET', '/DEFAULT/controller/v1/emu-2', asGateway)).json._links.deploymentBase.href;
  const secondId = Number(/deploymentBase\/(\d+)/.exec(offered)![1]);
  t.equal(
    (await server.call('POST', `/api/v1/releases/${release.id}/yank`, fleet.tokens.release, { reason: 'bricks meters' })).status,
    200,
  );
  const base = (await ddi('GET', '/DEFAULT/controller/v1/emu-2', asGateway)).json;
  t.notOk(base._links.deploymentBase, 'no deployment of a yanked release');
  t.match(base._links.cancelAction.href, new RegExp(`/cancelAction/${secondId}$`), 'its action becomes a cancel action');
  t.equal((await ddi('GET', `/DEFAULT/controller/v1/emu-2/deploymentBase/${secondId}`, asGateway)).status, 410, 'the deployment is gone');
  t.equal(
    (
      await ddi('POST', `/DEFAULT/controller/v1/emu-2/cancelAction/${actionId}/feedback`, asGateway, {
        status: { execution: 'closed', result: { finished: 'success' } },
      })
    ).status,
    404,
    "another controller's action",
  );
  const confirm = () =>
    ddi('POST', `/DEFAULT/controller/v1/emu-2/cancelAction/${secondId}/feedback`, asGateway, {
      status: { execution: 'closed', result: { finished: 'success' } },
    });
  t.same((await Promise.all([confirm(), confirm()])).map((reply) => reply.status).sort(), [200, 410], 'the cancel is confirmed once');
  t.equal((await store.ddi.action(secondId))!.status, 'canceled');
  t.notOk((await ddi('GET', '/DEFAULT/controller/v1/emu-2', asGateway)).json._links.cancelAction, 'nothing left to do');
});

t.test('configData merges, replaces and removes', async (t) => {
  const { server, ddi } = await setup(t, 10);
  const stored = () => server.app.sluice.store.ddi.configData('emu-1');
  const put = (body: object) => ddi('PUT', '/DEFAULT/controller/v1/emu-1/configData', undefined, body);
  t.equal(await stored(), undefined, 'none before the controller sends it');
  t.equal((await put({ data: { hwRevision: '2', site: 'north' } })).status, 200);
  t.same(await stored(), { hwRevision: '2', site: 'north' }, 'merge is the default');
  await put({ mode: 'merge', data: { site: 'south', rack: '4' } });
  t.same(await stored(), { hwRevision: '2', site: 'south', rack: '4' }, 'merge keeps the other keys');
  await put({ mode: 'remove', data: { rack: '' } });
  t.same(await stored(), { hwRevision: '2', site: 'south' }, 'remove drops the keys named');
  await put({ mode: 'replace', data: { only: 'this' } });
  t.same(await stored(), { only: 'this' }, 'replace');
  t.equal((await put({ mode: 'append', data: {} })).status, 400, 'an unknown mode');
  t.same(await stored(), { only: 'this' }, 'which changes nothing');
});

t.test(
  'a cancel acknowledged after the install: the success feedback that follows, or the version the controller reports, corrects the record',
  async (t) => {
    const { server, fleet, plan, ddi } = await setup(t, 10);
    const { store } = server.app.sluice;
    const deployment = new URL((await ddi('GET', '/DEFAULT/controller/v1/emu-1')).json._links.deploymentBase.href);
    const actionId = Number(/deploymentBase\/(\d+)/.exec(deployment.pathname)![1]);
    await ddi('GET', deployment.pathname + deployment.search);
    const feedback = (kind: string, id: number, execution: string, finished: string) =>
      ddi('POST', `/DEFAULT/controller/v1/emu-1/${kind}/${id}/feedback`, undefined, {
        id: String(id),
        status: { execution, result: { finished }, details: ['Update Installed.'] },
      });
    t.equal((await feedback('deploymentBase', actionId, 'proceeding', 'none')).status, 200, 'installing');
    // Installed, waiting to reboot, when the plan is cancelled: the client acknowledges the cancel.
    t.equal((await server.call('POST', `/api/v1/plans/${plan.id}/cancel`, fleet.tokens.support)).status, 200);
    const cancelPath = new URL((await ddi('GET', '/DEFAULT/controller/v1/emu-1')).json._links.cancelAction.href).pathname;
    t.equal(
      (
        await ddi('POST', `${cancelPath}/feedback`, undefined, {
          status: { execution: 'closed', result: { finished: 'success' }, details: ['cancellation acknowledged.'] },
        })
      ).status,
      200,
    );
    t.equal((await store.devices.get('emu-1'))?.version, '1.0.0', 'the old version, as the device said it cancelled');

    // Booted into the update, it reports success for the action it had installed.
    const late = await feedback('deploymentBase', actionId, 'closed', 'success');
    t.equal(late.status, 200, 'the late success is taken, not refused as gone');
    t.equal((await store.devices.get('emu-1'))?.version, '2.0.0', "the device's record shows the version it runs");
    t.equal((await feedback('deploymentBase', actionId, 'closed', 'success')).status, 200, 'a resend');
    const commits = (await store.devices.history('emu-1')).filter((event) => event.state === 'committed');
    t.equal(commits.length, 1, 'recorded once');
    t.match(commits[0].detail, /after the device had acknowledged the cancel/);
    t.equal((await store.ddi.action(actionId))!.status, 'canceled', 'the action stays as it ended');
    t.equal((await feedback('deploymentBase', actionId, 'proceeding', 'none')).status, 410, 'other feedback for it is still gone');
  },
);

t.test('the version a controller reports in its attributes (configData "version") corrects the device\'s record', async (t) => {
  const { server, fleet, ddi } = await setup(t, -10);
  const { store } = server.app.sluice;
  const put = (data: Record<string, string>, mode = 'merge') =>
    ddi('PUT', '/DEFAULT/controller/v1/emu-1/configData', undefined, { mode, data });
  t.equal((await put({ hwRevision: '2' })).status, 200);
  t.equal((await store.devices.get('emu-1'))?.version, '1.0.0', 'no version attribute: nothing changes');
  t.equal((await put({ version: 'rootfs-2024.10' })).status, 200, 'a version that is not semver is kept as an attribute');
  t.equal((await store.devices.get('emu-1'))?.version, '1.0.0', 'but not taken as the version');
  t.equal((await put({ version: '2.0.0' })).status, 200);
  t.equal((await store.devices.get('emu-1'))?.version, '2.0.0');
  t.equal((await put({ version: '2.0.0' }, 'replace')).status, 200, 'the same again');
  const audit = (await server.call('GET', '/api/v1/audit?subject=device:emu-1&action=device.version_reported', fleet.tokens.support)).json;
  t.equal(audit.length, 1, 'one change, audited once');
  t.match(audit[0].details, { from: '1.0.0', to: '2.0.0', source: 'ddi configData' });
  t.notOk((await ddi('GET', '/DEFAULT/controller/v1/emu-1')).json._links.deploymentBase, 'already running the release: nothing to deploy');
});
