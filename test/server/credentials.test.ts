// Tokens revoked and rotated through the API (issue 15): users' (an admin for anyone, anyone
// for themselves), devices' and DDI gateways'; the old token stops working at once, the new one
// works, and every change is audited. A gateway token acts for its own customer's devices only.
import t from 'tap';
import { startTestServer, seedFleet, type TestServer } from '../helpers/server.js';

const checkin = (server: TestServer, token: string) =>
  server.call('POST', '/api/v1/device/checkin', token, { version: '1.0.0', nonce: 'ab'.repeat(16) });
const ddiPoll = async (server: TestServer, device: string, authorization: string) =>
  (await server.app.inject({ method: 'GET', url: `/DEFAULT/controller/v1/${device}`, headers: { authorization } })).statusCode;
const audited = async (server: TestServer, action: string) =>
  (await server.call('GET', `/api/v1/audit?action=${action}`, server.adminToken)).json as {
    actor: string;
    subject: string;
    details: Record<string, unknown> | null;
  }[];

t.test("users' tokens: an admin rotates and revokes anyone's, everyone else only their own", async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  const users = (await server.call('GET', '/api/v1/users', server.adminToken)).json as {
    id: string;
    username: string;
    hasPassword: boolean;
  }[];
  t.same(
    users.map((user) => user.username),
    ['admin', 'customer-acme', 'release-acme', 'support-acme'],
    'an admin lists every user',
  );
  t.notMatch(JSON.stringify(users), /token|hash/i, 'never a token or a hash');
  const support = users.find((user) => user.username === 'support-acme')!;
  const [mine] = (await server.call('GET', '/api/v1/users?username=admin', fleet.tokens.customer)).json;
  t.equal(mine, undefined, 'anyone else sees only themselves');
  t.same(
    (await server.call('GET', '/api/v1/users', fleet.tokens.customer)).json.map((user: { username: string }) => user.username),
    ['customer-acme'],
  );

  const rotated = await server.call('POST', `/api/v1/users/${support.id}/tokens`, server.adminToken);
  t.equal(rotated.status, 201, rotated.body);
  t.match(rotated.json, { id: support.id, token: /^u_/, revoked: 1 });
  t.equal((await server.call('GET', '/api/v1/plans', fleet.tokens.support)).status, 401, 'the old token stops working at once');
  t.equal((await server.call('GET', '/api/v1/plans', rotated.json.token)).status, 200, 'the new one works');
  t.match(await audited(server, 'user.token.rotate'), [{ actor: 'user:admin', subject: 'user:support-acme', details: { revoked: 1 } }]);

  const own = await server.call('POST', '/api/v1/users/me/tokens', fleet.tokens.customer);
  t.equal(own.status, 201, 'a customer user rotates their own token');
  t.equal((await server.call('GET', '/api/v1/plans', own.json.token)).status, 200);
  const adminId = users.find((user) => user.username === 'admin')!.id;
  t.equal(
    (await server.call('POST', `/api/v1/users/${adminId}/tokens`, rotated.json.token)).status,
    404,
    "support may not rotate the admin's: as if absent",
  );
  t.equal((await server.call('DELETE', `/api/v1/users/${adminId}/tokens`, own.json.token)).status, 404, 'nor may a customer revoke it');
  t.equal((await server.call('GET', '/api/v1/plans', server.adminToken)).status, 200, "the admin's token is untouched");

  const revoked = await server.call('DELETE', '/api/v1/users/me/tokens', fleet.tokens.release);
  t.same(revoked.json, { id: users.find((user) => user.username === 'release-acme')!.id, revoked: 1 });
  t.equal((await server.call('GET', '/api/v1/releases', fleet.tokens.release)).status, 401, 'revoked');
  t.equal((await server.call('POST', '/api/v1/users/no-such-user/tokens', server.adminToken)).status, 404);
  t.match(await audited(server, 'user.token.revoke'), [{ actor: 'user:release-acme', subject: 'user:release-acme' }]);
});

t.test("device tokens: rotated or revoked by staff; the agent's old token is refused at once", async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  const old = await fleet.addDevice('emu-1');
  t.equal((await checkin(server, old)).status, 200);
  t.equal((await server.call('POST', '/api/v1/devices/emu-1/token', fleet.tokens.customer)).status, 403, 'not by the customer');
  const rotated = await server.call('POST', '/api/v1/devices/emu-1/token', fleet.tokens.support);
  t.equal(rotated.status, 201, rotated.body);
  t.match(rotated.json, { id: 'emu-1', token: /^d_/, revoked: 1 });
  t.equal((await checkin(server, old)).status, 401, 'the old token checks in no more');
  t.equal(await ddiPoll(server, 'emu-1', `TargetToken ${old}`), 401, 'nor polls through DDI');
  t.equal((await checkin(server, rotated.json.token)).status, 200, 'the new one does');
  t.same((await server.call('DELETE', '/api/v1/devices/emu-1/token', fleet.tokens.support)).json, { id: 'emu-1', revoked: 1 });
  t.equal((await checkin(server, rotated.json.token)).status, 401, 'revoked: the device is shut out');
  t.equal((await server.call('POST', '/api/v1/devices/ghost/token', fleet.tokens.support)).status, 404);
  t.equal((await server.call('DELETE', '/api/v1/devices/ghost/token', fleet.tokens.support)).status, 404);
  t.same(
    (await audited(server, 'device.token.rotate')).map((entry) => entry.subject),
    ['device:emu-1'],
  );
  t.same(
    (await audited(server, 'device.token.revoke')).map((entry) => entry.actor),
    ['user:support-acme'],
  );
});

t.test("gateway tokens: one customer's, rotated in place, listed without secrets", async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  await fleet.addDevice('emu-1');
  await server.call('POST', '/api/v1/customers', server.adminToken, { id: 'beta', name: 'Beta', timezone: 'UTC' });
  await fleet.addDevice('emu-b', { customer: 'beta' });
  t.equal(
    (await server.call('POST', '/api/v1/ddi/gateway-tokens', fleet.tokens.support, {})).status,
    400,
    'a gateway token names its customer',
  );
  t.equal(
    (await server.call('POST', '/api/v1/ddi/gateway-tokens', fleet.tokens.support, { customer: 'nobody' })).json.error.code,
    'unknown_customer',
  );
  const gateway = (await server.call('POST', '/api/v1/ddi/gateway-tokens', fleet.tokens.support, { customer: 'acme' })).json;
  t.match(gateway, { tenant: 'DEFAULT', customer: 'acme', token: /^g_/ });
  t.equal(await ddiPoll(server, 'emu-1', `GatewayToken ${gateway.token}`), 200, "acme's gateway acts for acme's device");
  t.equal(await ddiPoll(server, 'emu-b', `GatewayToken ${gateway.token}`), 404, "and not for beta's: as if it did not exist");
  const listed = (await server.call('GET', '/api/v1/ddi/gateway-tokens?customer=acme', fleet.tokens.support)).json;
  t.match(listed, [{ id: gateway.id, customer: 'acme', createdBy: 'user:support-acme', revokedAt: null }]);
  t.notMatch(JSON.stringify(listed), gateway.token.slice(2, 20), 'no secret listed');

  const rotated = await server.call('POST', `/api/v1/ddi/gateway-tokens/${gateway.id}/rotate`, fleet.tokens.support);
  t.equal(rotated.status, 201, rotated.body);
  t.match(rotated.json, { id: gateway.id, customer: 'acme', token: /^g_/ });
  t.equal(await ddiPoll(server, 'emu-1', `GatewayToken ${gateway.token}`), 401, 'the old secret stops working');
  t.equal(await ddiPoll(server, 'emu-1', `GatewayToken ${rotated.json.token}`), 200, 'the new one works, for the same customer');
  t.equal((await server.call('POST', `/api/v1/ddi/gateway-tokens/${gateway.id}/revoke`, fleet.tokens.support)).status, 200);
  t.equal(
    (await server.call('POST', `/api/v1/ddi/gateway-tokens/${gateway.id}/rotate`, fleet.tokens.support)).status,
    404,
    'a revoked token is not brought back',
  );
  t.equal(await ddiPoll(server, 'emu-1', `GatewayToken ${rotated.json.token}`), 401);
  t.same(
    (await audited(server, 'ddi.gateway_token.rotate')).map((entry) => entry.details),
    [{ customer: 'acme' }],
  );
});
