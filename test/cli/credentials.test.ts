// `sluice token rotate|revoke` and `sluice password set` as an operator runs them: the real bin
// in a child process against a server listening on 127.0.0.1 (issue 15).
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSluice } from '../helpers/processes.js';
import { startTestServer, seedFleet } from '../helpers/server.js';

t.test('rotate and revoke tokens of users, devices and gateways; set passwords', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'sluice-cli-credentials-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const server = await startTestServer(t);
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const fleet = await seedFleet(server);
  const deviceToken = await fleet.addDevice('emu-1');
  const works = async (token: string, path = '/api/v1/plans') => (await server.call('GET', path, token)).status === 200;
  const checksIn = async (token: string) =>
    (await server.call('POST', '/api/v1/device/checkin', token, { version: '1.0.0', nonce: 'cd'.repeat(16) })).status === 200;
  const sluice = (args: string[], token: string) => runSluice(args, { env: { SLUICE_SERVER: url, SLUICE_TOKEN: token } });

  const user = await runSluice(['token', 'rotate', '--server', url, '--token', server.adminToken, '--user', 'support-acme']);
  t.equal(user.code, 0, user.stderr);
  const support = user.stdout.trim();
  t.match(support, /^u_[\w-]{43}$/, 'the new token alone on stdout');
  t.match(user.stderr, /rotated the token of user support-acme: 1 old token\(s\) no longer work/);
  t.notOk(await works(fleet.tokens.support), 'the old one is refused');
  t.ok(await works(support), 'the new one works');

  const own = await sluice(['token', 'rotate', '--user', 'customer-acme'], fleet.tokens.customer);
  t.equal(own.code, 0, `a user rotates their own by name: ${own.stderr}`);
  t.ok(await works(own.stdout.trim()));
  const others = await sluice(['token', 'rotate', '--user', 'admin'], support);
  t.equal(others.code, 1);
  t.match(others.stderr, /no user "admin" that this token may manage/);

  const device = await sluice(['token', 'rotate', '--device', 'emu-1'], support);
  t.equal(device.code, 0, device.stderr);
  t.notOk(await checksIn(deviceToken));
  t.ok(await checksIn(device.stdout.trim()), 'the device checks in with its new token');
  const revoked = await sluice(['token', 'revoke', '--device', 'emu-1'], support);
  t.equal(revoked.code, 0, revoked.stderr);
  t.match(revoked.stderr, /revoked 1 token\(s\) of device emu-1/);
  t.notOk(await checksIn(device.stdout.trim()));

  const gateway = (await server.call('POST', '/api/v1/ddi/gateway-tokens', support, { customer: 'acme' })).json;
  const rotatedGateway = await sluice(['token', 'rotate', '--gateway', gateway.id], support);
  t.equal(rotatedGateway.code, 0, rotatedGateway.stderr);
  t.match(rotatedGateway.stdout.trim(), /^g_/);
  const poll = async (token: string) =>
    (await server.app.inject({ method: 'GET', url: '/DEFAULT/controller/v1/emu-1', headers: { authorization: `GatewayToken ${token}` } }))
      .statusCode;
  t.equal(await poll(gateway.token), 401);
  t.equal(await poll(rotatedGateway.stdout.trim()), 200);

  const both = await sluice(['token', 'revoke', '--user', 'me', '--device', 'emu-1'], support);
  t.equal(both.code, 1);
  t.match(both.stderr, /name exactly one of --user NAME, --device ID or --gateway ID/);
  const refused = await sluice(['token', 'rotate', '--device', 'emu-1'], own.stdout.trim());
  t.equal(refused.code, 1);
  t.match(refused.stderr, /refused \(HTTP 403\) forbidden/, "the server's refusal, in one line");

  writeFileSync(join(work, 'new-password'), 'a long new password\n', { mode: 0o600 });
  const reset = await sluice(
    ['password', 'set', '--user', 'support-acme', '--password-file', join(work, 'new-password')],
    server.adminToken,
  );
  t.equal(reset.code, 0, reset.stderr);
  t.match(reset.stderr, /password of support-acme set; 0 portal session\(s\) ended/);
  const hash = (await server.app.sluice.store.users.getByName('support-acme'))!.passwordHash;
  t.match(hash, /^scrypt\$131072\$/, 'stored as a scrypt hash');
  const selfChange = await sluice(['password', 'set', '--user', 'me', '--password-file', join(work, 'new-password')], support);
  t.equal(selfChange.code, 1, "one's own password needs the current one");
  t.match(selfChange.stderr, /password_incorrect/);

  const audit = (await server.call('GET', '/api/v1/audit', server.adminToken)).json.map((entry: { action: string }) => entry.action);
  for (const action of [
    'user.token.rotate',
    'device.token.rotate',
    'device.token.revoke',
    'ddi.gateway_token.rotate',
    'user.password.reset',
  ]) {
    t.ok(audit.includes(action), `audited: ${action}`);
  }
});
