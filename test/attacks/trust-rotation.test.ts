// The trust model's time and key-compromise attacks, through the real server and a real agent
// process (DESIGN.md, "Trust model"): a release key removed by a root rotation, an expired
// root and an expired manifest. The server publishes what it was given before the attack was
// known; the device is the last line of defence and must refuse on its own.
import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, type KeyObject } from 'node:crypto';
import { initKeys } from '../../cli/keys.js';
import { generateKeyPair, writePrivateKeyFile } from '../../signing/keys.js';
import { createRoot } from '../../signing/root.js';
import { signDocument } from '../../signing/signed.js';
import { readStateFile } from '../../client/state-file.js';
import {
  startTestServer,
  seedFleet,
  signedManifest,
  uploadRelease,
  storedState,
  type ManifestFields,
  type TestServer,
} from '../helpers/server.js';
import { prepareDevice, startAgentProcess, waitFor } from '../helpers/agent.js';

type Test = Parameters<typeof startTestServer>[0] & { equal: Function };

/** A listening server whose root (version 1) expires when the test says. */
async function serverWithRoot(t: Test, rootExpires?: Date) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-trust-'));
  initKeys(join(dataDir, 'keys'), rootExpires ? { expires: rootExpires } : {});
  const pinnedRoot = readFileSync(join(dataDir, 'keys', 'root.json'));
  const server = await startTestServer(t, { dataDir, pollSeconds: 1 });
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const fleet = await seedFleet(server, { timezone: 'Europe/Madrid' });
  const customers = new Map([['acme', fleet.tokens.customer]]);

  async function addCustomer(id: string) {
    await server.call('POST', '/api/v1/customers', server.adminToken, { id, name: `${id} Corp`, timezone: 'Europe/Madrid' });
    const user = await server.call('POST', '/api/v1/users', server.adminToken, {
      username: `customer-${id}`,
      role: 'customer',
      customer: id,
    });
    customers.set(id, user.json.token);
  }

  async function publish(version: string, keys: KeyObject[], fields: Partial<ManifestFields> = {}) {
    const artifact = randomBytes(64 * 1024);
    return uploadRelease(server, fleet.tokens.release, signedManifest(artifact, { product: 'emu', version, ...fields }, keys), artifact);
  }

  /** A confirmed plan for every device of `customer`, window in January: download and verify happen before it. */
  async function confirmPlan(customer: string, release: string) {
    const plan = await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
      customer,
      release,
      windows: [{ start: '2027-01-10T02:00', end: '2027-01-10T05:00', timezone: 'Europe/Madrid' }],
      deadline: '2027-02-01T00:00:00Z',
    });
    t.equal(plan.status, 201, `plan for ${customer}: ${plan.body}`);
    t.equal((await server.call('POST', `/api/v1/plans/${plan.json.id}/propose`, fleet.tokens.support)).status, 200);
    const confirmed = await server.call('POST', `/api/v1/plans/${plan.json.id}/confirm`, customers.get(customer), {
      window: 0,
      maintainer: { name: 'Ana', phone: '+34 600' },
    });
    t.equal(confirmed.status, 200, `confirm: ${confirmed.body}`);
  }

  function startDevice(id: string, token: string) {
    const directory = mkdtempSync(join(tmpdir(), 'sluice-trust-device-'));
    t.teardown(() => rmSync(directory, { recursive: true, force: true }));
    const rootPath = join(directory, 'pinned-root.json');
    writeFileSync(rootPath, pinnedRoot);
    const device = prepareDevice(join(directory, 'device'), { server: url, deviceId: id, token, rootPath });
    const agent = startAgentProcess(device);
    t.teardown(agent.stop);
    return {
      device,
      agent,
      trustedVersion: () => JSON.parse(readFileSync(join(device.dataDir, 'root.json'), 'utf8')).signed.version as number,
    };
  }

  const events = async (device: string) => (await server.app.sluice.store.devices.history(device, 10_000)).reverse();
  const addDevice = (id: string, customer: string) => fleet.addDevice(id, { customer });
  return { server, fleet, keysDir: join(dataDir, 'keys'), addCustomer, addDevice, publish, confirmPlan, startDevice, events };
}

async function rotate(server: TestServer, signers: KeyObject[], roles: Parameters<typeof createRoot>[0]['roles'], version = 2) {
  const root = createRoot({ version, expires: new Date(Date.now() + 365 * 86400_000), roles });
  return server.call('POST', '/api/v1/trust/root', server.adminToken, signDocument(root, signers));
}

function neverInstalled(
  t: Test & { notOk: Function; same: Function },
  events: { state: string }[],
  device: { slots: { a: string; b: string }; dataDir: string },
) {
  t.notOk(
    events.some((event) => ['downloading', 'installing', 'health_check', 'committed'].includes(event.state)),
    'no byte downloaded, nothing installed',
  );
  t.same(readdirSync(device.slots.a).concat(readdirSync(device.slots.b)), [], 'both slots untouched');
  t.equal(readStateFile(device.dataDir, '1.0.0').device.version, '1.0.0', 'still the old version');
}

t.test('a compromised release key, removed by a root rotation signed by the old root', async (t) => {
  const { server, keysDir, addCustomer, addDevice, publish, confirmPlan, startDevice, events } = await serverWithRoot(t);
  const oldRootKey = server.keys.root;
  const compromised = server.keys.release;
  // Published with the key before its compromise was known, and already planned for acme.
  const early = await publish('2.0.0', [compromised]);
  t.equal(early.status, 201);
  const acmeToken = await addDevice('emu-0001', 'acme');
  await confirmPlan('acme', early.json.id);

  const newRootKey = generateKeyPair().privateKey;
  const newRelease = generateKeyPair().privateKey;
  const roles = { root: { keys: [newRootKey] }, release: { keys: [newRelease] }, server: { keys: [server.keys.server] } };
  const forged = await rotate(server, [newRootKey], roles);
  t.equal(forged.status, 422, 'a rotation without the old root key is refused');
  t.equal(forged.json.error.code, 'signature_invalid');
  t.equal((await server.call('GET', '/api/v1/trust/root/2.json')).status, 404, 'and not offered');
  const rotated = await rotate(server, [oldRootKey, newRootKey], roles);
  t.equal(rotated.status, 201, `rotation: ${rotated.body}`);
  t.equal(JSON.parse(readFileSync(join(keysDir, 'root.json'), 'utf8')).signed.version, 1, 'the devices below pin version 1');

  const before = await storedState(server);
  const late = await publish('2.0.1', [compromised]);
  t.equal(late.status, 422, 'the server refuses the removed key from now on');
  t.same(await storedState(server), before, 'and stores nothing of it');

  // The control: a release signed with the new key, for another customer's device that pins
  // the same old root; it can only verify it by walking to version 2.
  await addCustomer('beta');
  const good = await publish('2.0.1', [newRelease]);
  t.equal(good.status, 201, `new-key release: ${JSON.stringify(good.json)}`);
  const betaToken = await addDevice('emu-0002', 'beta');
  await confirmPlan('beta', good.json.id);

  const attacked = startDevice('emu-0001', acmeToken);
  const control = startDevice('emu-0002', betaToken);
  const refused = await waitFor(
    async () => (await events('emu-0001')).find((event) => /manifest_invalid/.test(event.detail ?? '')),
    'emu-0001 to refuse the manifest',
    30_000,
  ).catch((error) => {
    t.fail(`${error.message}\n${attacked.agent.output()}`);
    return null;
  });
  t.ok(refused, 'the device that pinned the old root refuses a manifest signed by the removed key');
  const verified = await waitFor(
    async () => (await events('emu-0002')).find((event) => event.state === 'verified'),
    'emu-0002 to verify',
    30_000,
  ).catch((error) => {
    t.fail(`${error.message}\n${control.agent.output()}`);
    return null;
  });
  t.ok(verified, "the control device verifies the new key's release");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await attacked.agent.stop();
  await control.agent.stop();
  t.equal(attacked.trustedVersion(), 2, 'the attacked device walked to root version 2 and kept it');
  t.equal(control.trustedVersion(), 2, 'so did the control');
  neverInstalled(t, await events('emu-0001'), attacked.device);
});

t.test('an expired root: nothing is trusted until a newer root is offered', async (t) => {
  const expires = new Date(Date.now() + 5000);
  const { server, addDevice, publish, confirmPlan, startDevice, events } = await serverWithRoot(t, expires);
  const release = await publish('2.0.0', [server.keys.release]);
  t.equal(release.status, 201);
  const token = await addDevice('emu-0001', 'acme');
  await confirmPlan('acme', release.json.id);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expires.getTime() - Date.now() + 500)));

  const { device, agent, trustedVersion } = startDevice('emu-0001', token);
  const refused = await waitFor(
    async () => (await events('emu-0001')).find((event) => /root_invalid: .*expired/.test(event.detail ?? '')),
    'a root_invalid report',
    30_000,
  ).catch((error) => {
    t.fail(`${error.message}\n${agent.output()}`);
    return null;
  });
  t.ok(refused, 'the device refuses to act on an expired root, and says so');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  neverInstalled(t, await events('emu-0001'), device);

  // Recovery is a rotation signed by the (offline) root key: the device walks to it and goes on.
  const keys = server.keys;
  const rotated = await rotate(server, [keys.root], {
    root: { keys: [keys.root] },
    release: { keys: [keys.release] },
    server: { keys: [keys.server] },
  });
  t.equal(rotated.status, 201, `rotation: ${rotated.body}`);
  const verified = await waitFor(
    async () => (await events('emu-0001')).find((event) => event.state === 'verified'),
    'the device to verify after the rotation',
    30_000,
  ).catch((error) => {
    t.fail(`${error.message}\n${agent.output()}`);
    return null;
  });
  t.ok(verified, 'with a fresh root the same release verifies');
  await agent.stop();
  t.equal(trustedVersion(), 2, 'the walked root is kept in the data directory');
});

t.test('an expired manifest: published while valid, refused by the device once it expired', async (t) => {
  const { server, addDevice, publish, confirmPlan, startDevice, events } = await serverWithRoot(t);
  const stale = await publish('2.0.0', [server.keys.release], { expires: '2020-01-01T00:00:00Z' });
  t.equal(stale.status, 422, 'the server refuses a manifest that has already expired');
  const expires = new Date(Date.now() + 3000);
  const release = await publish('2.0.0', [server.keys.release], { expires: expires.toISOString() });
  t.equal(release.status, 201, JSON.stringify(release.json));
  const token = await addDevice('emu-0001', 'acme');
  await confirmPlan('acme', release.json.id);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expires.getTime() - Date.now() + 500)));

  const { device, agent } = startDevice('emu-0001', token);
  const refused = await waitFor(
    async () => (await events('emu-0001')).find((event) => /manifest_expired/.test(event.detail ?? '')),
    'a manifest_expired report',
    30_000,
  ).catch((error) => {
    t.fail(`${error.message}\n${agent.output()}`);
    return null;
  });
  t.ok(refused, 'refused and reported');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await agent.stop();
  neverInstalled(t, await events('emu-0001'), device);
});

t.test('a rotation that would freeze the fleet is refused: already expired, or not covering the server key', async (t) => {
  const server = await startTestServer(t);
  const { root, release, server: serverKey } = server.keys;
  const other = generateKeyPair().privateKey;
  const refusals: [string, Parameters<typeof createRoot>[0]][] = [
    [
      'an expired root',
      {
        version: 2,
        expires: new Date(Date.now() - 1000),
        roles: { root: { keys: [root] }, release: { keys: [release] }, server: { keys: [serverKey] } },
      },
    ],
    [
      'a server role without the key this server signs with',
      {
        version: 2,
        expires: new Date(Date.now() + 86400_000),
        roles: { root: { keys: [root] }, release: { keys: [release] }, server: { keys: [other] } },
      },
    ],
    [
      'a server threshold the one signature of an answer cannot meet',
      {
        version: 2,
        expires: new Date(Date.now() + 86400_000),
        roles: { root: { keys: [root] }, release: { keys: [release] }, server: { keys: [serverKey, other], threshold: 2 } },
      },
    ],
  ];
  for (const [what, fields] of refusals) {
    const response = await server.call('POST', '/api/v1/trust/root', server.adminToken, signDocument(createRoot(fields), [root]));
    t.equal(response.status, 422, `${what}: refused`);
    t.equal(response.json.error.code, 'root_unusable', `${what}: ${response.json.error.message}`);
  }
  t.equal((await server.call('GET', '/api/v1/trust/root/2.json')).status, 404, 'none of them is offered to devices');
  t.same((await server.call('GET', '/api/v1/audit?action=trust.rotate', server.adminToken)).json, [], 'nor audited as a rotation');
  // The control: the server key stays, a second one joins for a later hand-over.
  const handOver = createRoot({
    version: 2,
    expires: new Date(Date.now() + 86400_000),
    roles: { root: { keys: [root] }, release: { keys: [release] }, server: { keys: [serverKey, other] } },
  });
  t.equal(
    (await server.call('POST', '/api/v1/trust/root', server.adminToken, signDocument(handOver, [root]))).status,
    201,
    'a root that keeps the server key is accepted',
  );
});

t.test('a server refuses to start with a server key its root does not name: a new --trust root, or a restart', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-trust-start-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const offline = initKeys(join(dataDir, 'offline'));
  const strayKey = join(dataDir, 'server.key');
  writePrivateKeyFile(strayKey, generateKeyPair().privateKey);
  await t.rejects(
    startTestServer(t, { dataDir: join(dataDir, 'server'), trustRootPath: offline.rootPath, serverKeyPath: strayKey }),
    /server role does not include this server's key/,
    'the server does not start signing answers no device accepts',
  );

  const running = await startTestServer(t, { dataDir: join(dataDir, 'dev') });
  await running.close();
  await t.rejects(
    startTestServer(t, { dataDir: join(dataDir, 'dev'), databaseUrl: running.databaseUrl, serverKeyPath: strayKey }),
    /is not in the server role of root version 1/,
    'nor restarts with a server key its stored root does not name',
  );
});
