// Users, products, customers, devices, trust, health and docs (issue: foundation).
import t from 'tap';
import { startTestServer, seedFleet } from '../helpers/server.js';
import { hashToken } from '../../server/auth/tokens.js';

t.test('first start bootstraps keys, root.json and an admin token', async (t) => {
  const server = await startTestServer(t);
  t.match(server.adminToken, /^u_/);
  const root = await server.call('GET', '/api/v1/trust/root.json');
  t.equal(root.status, 200);
  t.equal(root.json.signed.type, 'root');
  t.equal(root.json.signed.version, 1);
  t.same((await server.call('GET', '/api/v1/trust/root/1.json')).json, root.json);
  t.equal((await server.call('GET', '/api/v1/trust/root/2.json')).status, 404);
  t.equal((await server.call('GET', '/api/v1/trust/root/x.json')).status, 400);
  t.same((await server.call('GET', '/healthz')).json, { status: 'ok' });
});

t.test('tokens are stored only as hashes', async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  const stored = await server.app.sluice.store.users.tokenHashes();
  const hashes = new Set(stored);
  for (const token of Object.values(fleet.tokens)) {
    t.ok(hashes.has(hashToken(token)), 'hash present');
    t.notOk(hashes.has(token), 'plain token absent');
  }
  for (const token of Object.values(fleet.tokens))
    t.notOk(
      stored.some((hash) => hash.includes(token)),
      'no plain token anywhere in the table',
    );
  t.ok(await server.app.sluice.store.users.principalByToken(fleet.tokens.release), 'and the token is known by its hash');
});

t.test('fleet endpoints enforce roles and customer scope', async (t) => {
  const server = await startTestServer(t);
  const acme = await seedFleet(server, { customer: 'acme' });
  await server.call('POST', '/api/v1/customers', server.adminToken, { id: 'globex', name: 'Globex', timezone: 'America/New_York' });
  const globexUser = (
    await server.call('POST', '/api/v1/users', server.adminToken, { username: 'g', role: 'customer', customer: 'globex' })
  ).json.token;
  const deviceToken = await acme.addDevice('emu-0001');
  t.match(deviceToken, /^d_/);
  await acme.addDevice('emu-0002', { customer: 'globex' });

  const asCustomer = await server.call('GET', '/api/v1/devices', acme.tokens.customer);
  t.same(
    asCustomer.json.map((device: { id: string }) => device.id),
    ['emu-0001'],
    'a customer sees only its devices',
  );
  t.same((await server.call('GET', '/api/v1/devices?customer=globex', acme.tokens.customer)).json, [], 'even when asking for another');
  t.equal(
    (await server.call('GET', '/api/v1/devices/emu-0002', acme.tokens.customer)).status,
    404,
    "another customer's device is not found",
  );
  t.equal((await server.call('GET', '/api/v1/devices/emu-0002', globexUser)).status, 200);
  t.equal((await server.call('GET', '/api/v1/devices', acme.tokens.support)).json.length, 2, 'staff see all');
  t.same(
    (await server.call('GET', '/api/v1/customers', acme.tokens.customer)).json.map((c: { id: string }) => c.id),
    ['acme'],
  );

  const refusals: [string, string, string | null, unknown, number, string][] = [
    ['POST', '/api/v1/users', acme.tokens.support, { username: 'x', role: 'admin' }, 403, 'forbidden'],
    ['POST', '/api/v1/users', null, { username: 'x', role: 'admin' }, 401, 'unauthorized'],
    ['POST', '/api/v1/users', server.adminToken, { username: 'x', role: 'customer' }, 400, 'validation_failed'],
    ['POST', '/api/v1/users', server.adminToken, { username: 'x', role: 'customer', customer: 'nope' }, 422, 'unknown_customer'],
    ['POST', '/api/v1/users', server.adminToken, { username: 'x', role: 'root' }, 400, 'validation_failed'],
    ['POST', '/api/v1/products', acme.tokens.release, { id: 'p', name: 'P' }, 403, 'forbidden'],
    ['POST', '/api/v1/products', server.adminToken, { id: 'emu', name: 'again' }, 409, 'already_exists'],
    ['POST', '/api/v1/products', server.adminToken, { id: '../etc', name: 'P' }, 400, 'validation_failed'],
    ['POST', '/api/v1/customers', server.adminToken, { id: 'c', name: 'C', timezone: 'Mars/Olympus' }, 400, 'invalid_timezone'],
    ['POST', '/api/v1/customers', acme.tokens.customer, { id: 'c', name: 'C', timezone: 'UTC' }, 403, 'forbidden'],
    [
      'POST',
      '/api/v1/devices',
      acme.tokens.support,
      { id: 'd', customer: 'nope', product: 'emu', hardware: 'h', version: '1.0.0' },
      422,
      'unknown_customer',
    ],
    [
      'POST',
      '/api/v1/devices',
      acme.tokens.support,
      { id: 'd', customer: 'acme', product: 'nope', hardware: 'h', version: '1.0.0' },
      422,
      'unknown_product',
    ],
    [
      'POST',
      '/api/v1/devices',
      acme.tokens.support,
      { id: 'd', customer: 'acme', product: 'emu', hardware: 'h', version: 'one' },
      400,
      'validation_failed',
    ],
    [
      'POST',
      '/api/v1/devices',
      acme.tokens.support,
      { id: 'emu-0001', customer: 'acme', product: 'emu', hardware: 'h', version: '1.0.0' },
      409,
      'already_exists',
    ],
    ['GET', '/api/v1/releases', acme.tokens.customer, undefined, 403, 'forbidden'],
    ['GET', '/api/v1/releases', deviceToken, undefined, 403, 'forbidden'],
    ['GET', '/api/v1/audit', acme.tokens.release, undefined, 403, 'forbidden'],
  ];
  // Every user and device has a token: tokens, products and customers count everything a refusal must not add.
  const { store } = server.app.sluice;
  const stored = async () =>
    (await store.users.tokenHashes()).length +
    (await store.products.list()).length +
    (await store.customers.list()).length +
    (await store.devices.list()).length;
  for (const [method, url, token, body, status, code] of refusals) {
    const before = await stored();
    const response = await server.call(method, url, token, body);
    t.equal(response.status, status, `${method} ${url} ${JSON.stringify(body)}: ${response.body}`);
    t.equal(response.json?.error?.code, code);
    t.equal(await stored(), before, 'nothing changed');
  }
});

t.test('/docs serves the OpenAPI document generated from the route schemas', async (t) => {
  const server = await startTestServer(t);
  const spec = await server.call('GET', '/docs/json');
  t.equal(spec.status, 200);
  t.equal(spec.json.openapi.slice(0, 2), '3.');
  for (const path of ['/api/v1/releases', '/api/v1/devices', '/api/v1/trust/root.json', '/api/v1/releases/{id}/artifact']) {
    t.ok(spec.json.paths[path], `documents ${path}`);
  }
  t.ok(spec.json.paths['/api/v1/products'].post.requestBody, 'request bodies come from the schemas');
  t.equal((await server.call('GET', '/docs')).status < 400, true, 'the UI answers');
});
