// The server enforces what the release signs (issue 15; DESIGN.md, "Trust model"): a plan
// never takes a device the manifest's product, hardware, minVersion or replaces do not allow,
// and neither device API ever offers such a release, to a late-joining device or to one
// whose version changed since. Reproduced first: a release signed for emu-hw-9 with
// minVersion 2.5.0 was offered to an emu-hw-2 device on 1.0.0 through DDI.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { startTestServer, seedFleet, signedManifest, uploadRelease, type ManifestFields, type TestServer } from '../helpers/server.js';

const now = new Date('2027-01-10T01:10:00Z'); // 02:10 in Madrid, inside the window below
const window = { start: '2027-01-10T02:00', end: '2027-01-10T05:00', timezone: 'Europe/Madrid' };

async function setup(t: Test, manifest: Partial<ManifestFields>) {
  const server = await startTestServer(t, { now: () => now });
  const fleet = await seedFleet(server);
  const artifact = randomBytes(4096);
  const release = (
    await uploadRelease(
      server,
      fleet.tokens.release,
      signedManifest(artifact, { product: 'emu', version: '3.0.0', name: 'update.swu', ...manifest }, [server.keys.release]),
      artifact,
    )
  ).json;
  const tokens: Record<string, string> = {};
  const addDevice = async (id: string, hardware: string, version: string) => {
    tokens[id] = await fleet.addDevice(id, { hardware, version });
  };
  const draft = (devices?: string[]) =>
    server.call('POST', '/api/v1/plans', fleet.tokens.support, {
      customer: 'acme',
      release: release.id,
      windows: [window],
      deadline: '2027-02-01T00:00:00Z',
      ...(devices ? { devices } : {}),
    });
  const confirm = async (id: string) => {
    t.equal((await server.call('POST', `/api/v1/plans/${id}/propose`, fleet.tokens.support)).status, 200);
    t.equal(
      (
        await server.call('POST', `/api/v1/plans/${id}/confirm`, fleet.tokens.customer, {
          window: 0,
          maintainer: { name: 'Ana', phone: '600' },
        })
      ).status,
      200,
    );
  };
  return { server, fleet, release, tokens, addDevice, draft, confirm, ...deviceApis(server, tokens) };
}

/** What each device API offers a device now: the DDI base links, the signed check-in's assignment. */
function deviceApis(server: TestServer, tokens: Record<string, string>) {
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
  const ddiLinks = async (device: string) =>
    (await ddi('GET', `/DEFAULT/controller/v1/${device}`, device)).json._links as Record<string, { href: string }>;
  const checkin = async (device: string) => {
    const answer = await server.call('POST', '/api/v1/device/checkin', tokens[device], {
      version: '1.0.0',
      nonce: randomBytes(16).toString('hex'),
    });
    return answer.json.signed.assignment as { release: string } | null;
  };
  return { ddi, ddiLinks, checkin };
}

t.test(
  'a release signed for emu-hw-9 with minVersion 2.5.0 is refused for, and never offered to, an emu-hw-2 device on 1.0.0',
  async (t) => {
    const world = await setup(t, { hardware: ['emu-hw-9'], minVersion: '2.5.0' });
    const { server, fleet, release, addDevice, draft, confirm, ddi, ddiLinks, checkin } = world;
    await addDevice('emu-fits', 'emu-hw-9', '2.6.0');
    await addDevice('emu-other-hw', 'emu-hw-2', '1.0.0');
    await addDevice('emu-too-old', 'emu-hw-9', '1.0.0');

    // Named explicitly: the whole plan is refused, every device that does not fit listed with why.
    const refused = await draft(['emu-fits', 'emu-other-hw', 'emu-too-old']);
    t.equal(refused.status, 422, refused.body);
    t.equal(refused.json.error.code, 'release_mismatch');
    t.same(
      refused.json.error.devices.map((entry: { device: string; reason: string }) => [entry.device, entry.reason]),
      [
        ['emu-other-hw', 'hardware_mismatch'],
        ['emu-too-old', 'version_below_minimum'],
      ],
    );
    t.match(refused.json.error.message, /emu-other-hw.*emu-hw-9/);
    t.same(await server.app.sluice.store.plans.list(), [], 'nothing stored');

    // By default (all the customer's devices): the ones that do not fit are left out, and listed.
    const created = await draft();
    t.equal(created.status, 201, created.body);
    t.same(
      created.json.excluded.map((entry: { device: string; reason: string }) => [entry.device, entry.reason]),
      [
        ['emu-other-hw', 'hardware_mismatch'],
        ['emu-too-old', 'version_below_minimum'],
      ],
    );
    t.equal(created.json.progress.total, 1, 'only the device it fits is in the plan');
    const audit = (await server.call('GET', `/api/v1/audit?subject=plan:${created.json.id}`, fleet.tokens.support)).json;
    t.equal(
      audit.find((entry: { action: string }) => entry.action === 'plan.create').details.excluded.length,
      2,
      'the audit row lists them too',
    );
    await confirm(created.json.id);

    t.ok((await ddiLinks('emu-fits')).deploymentBase, 'the device it fits gets its deployment');
    t.equal((await checkin('emu-fits'))?.release, release.id);
    for (const device of ['emu-other-hw', 'emu-too-old']) {
      t.notOk((await ddiLinks(device)).deploymentBase, `${device}: no DDI deployment`);
      t.equal(await checkin(device), null, `${device}: no check-in assignment`);
      const download = await ddi('GET', `/DEFAULT/controller/v1/${device}/softwaremodules/${release.id}/artifacts/update.swu`, device);
      t.equal(download.status, 404, `${device}: no DDI download`);
    }
  },
);

t.test('a late-joining device of other hardware does not join the plan and is offered nothing', async (t) => {
  const world = await setup(t, { hardware: ['emu-hw-9'] });
  const { server, fleet, addDevice, draft, confirm, ddiLinks, checkin } = world;
  await addDevice('emu-first', 'emu-hw-9', '1.0.0');
  const plan = (await draft()).json;
  await confirm(plan.id);
  await addDevice('emu-late-fits', 'emu-hw-9', '1.0.0');
  await addDevice('emu-late-other', 'emu-hw-2', '1.0.0');
  const members = (await server.app.sluice.store.plans.devices(plan.id)).map((member) => member.device);
  t.same(members, ['emu-first', 'emu-late-fits'], 'only the device the release fits joined');
  const audit = (await server.call('GET', `/api/v1/audit?subject=plan:${plan.id}`, fleet.tokens.support)).json as {
    action: string;
    details: Record<string, unknown>;
  }[];
  t.match(
    audit.find((entry) => entry.action === 'plan.device_left_out')?.details,
    { device: 'emu-late-other', reason: 'hardware_mismatch' },
    'and the audit log says why',
  );
  t.ok((await ddiLinks('emu-late-fits')).deploymentBase);
  t.notOk((await ddiLinks('emu-late-other')).deploymentBase, 'no DDI deployment for the other hardware');
  t.equal(await checkin('emu-late-other'), null);
});

t.test('a device whose version changed since it joined is no longer offered a downgrade that does not replace it', async (t) => {
  const world = await setup(t, { version: '1.5.0', downgrade: true, replaces: '>=2.0.0 <2.2.0' });
  const { server, fleet, release, tokens, addDevice, draft, confirm, ddi, ddiLinks, checkin } = world;
  await addDevice('emu-ddi', 'emu-hw-1', '2.1.0');
  await addDevice('emu-agent', 'emu-hw-1', '2.1.0');
  await addDevice('emu-newer', 'emu-hw-1', '2.4.0');
  const plan = (await draft()).json;
  t.same(
    plan.excluded.map((entry: { device: string; reason: string }) => [entry.device, entry.reason]),
    [['emu-newer', 'replaces_mismatch']],
  );
  await confirm(plan.id);
  const offered = (await ddiLinks('emu-ddi')).deploymentBase;
  t.ok(offered, 'offered while it runs a version the downgrade replaces');
  t.equal((await checkin('emu-agent'))?.release, release.id);

  // Both now run 2.3.0: the DDI controller says so in its attributes, the agent by a commit of another plan.
  t.equal(
    (await ddi('PUT', '/DEFAULT/controller/v1/emu-ddi/configData', 'emu-ddi', { mode: 'merge', data: { version: '2.3.0' } })).status,
    200,
  );
  await server.app.sluice.store.devices.applyReport('emu-agent', { state: 'idle', at: now, version: '2.3.0' });
  const links = await ddiLinks('emu-ddi');
  t.notOk(links.deploymentBase, 'no deployment any more');
  t.match(links.cancelAction?.href, /cancelAction\/\d+$/, 'the open action becomes a cancel action');
  t.equal(await checkin('emu-agent'), null, 'no check-in assignment any more');
  const download = await server.app.inject({
    method: 'GET',
    url: `/api/v1/releases/${release.id}/artifact`,
    headers: { authorization: `Bearer ${tokens['emu-agent']}` },
  });
  t.equal(download.statusCode, 403, 'nor its artifact');
  t.equal(download.json().error.code, 'not_assigned');
  t.equal(
    (await server.call('GET', `/api/v1/releases/${release.id}/artifact`, fleet.tokens.support)).status,
    200,
    'staff still download it',
  );
});
