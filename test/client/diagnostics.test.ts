// Remote support with a real agent: it uploads one bundle of its own configured collectors
// only after the customer consents, bounded in size.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startTestServer, seedFleet } from '../helpers/server.js';
import { prepareDevice, startAgentProcess, waitFor } from '../helpers/agent.js';

t.test('the agent uploads its configured logs only once consent is live', async (t) => {
  const server = await startTestServer(t, { pollSeconds: 1 });
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const fleet = await seedFleet(server);
  const token = await fleet.addDevice('emu-0001');
  const directory = mkdtempSync(join(tmpdir(), 'sluice-diagnostics-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const log = join(directory, 'app.log');
  writeFileSync(log, `${'old line\n'.repeat(1000)}the last line\n`);
  const device = prepareDevice(join(directory, 'device'), {
    server: url,
    deviceId: 'emu-0001',
    token,
    rootPath: join(server.dataDir, 'keys', 'root.json'),
    extra: { diagnostics: { logs: [log], maxBytes: 2048 } },
  });
  const session = (
    await server.call('POST', '/api/v1/support-sessions', fleet.tokens.support, {
      device: 'emu-0001',
      reason: 'drift',
      collect: ['logs', 'journal', 'system'],
    })
  ).json;
  const agent = startAgentProcess(device);
  t.teardown(agent.stop);
  await new Promise((resolve) => setTimeout(resolve, 2500));
  t.equal(
    (await server.call('GET', `/api/v1/support-sessions/${session.id}`, fleet.tokens.support)).json.status,
    'requested',
    'nothing uploaded before consent',
  );
  await server.call('POST', `/api/v1/support-sessions/${session.id}/consent`, fleet.tokens.customer, {});
  await waitFor(
    async () => (await server.call('GET', `/api/v1/support-sessions/${session.id}`, fleet.tokens.support)).json.status === 'uploaded',
    'the upload',
    20_000,
  ).catch((error) => t.fail(`${error.message}\n${agent.output()}`));
  const bundle = await server.app.inject({
    method: 'GET',
    url: `/api/v1/support-sessions/${session.id}/bundle`,
    headers: { authorization: `Bearer ${fleet.tokens.support}` },
  });
  const content = JSON.parse(gunzipSync(bundle.rawPayload).toString());
  t.same(content.collectors.sort(), ['journal', 'logs', 'system']);
  t.match(content.logs[log], /the last line\n$/, 'the end of the log');
  t.ok(content.logs[log].length <= 2048, 'bounded by maxBytes');
  t.equal(content.system.version, '1.0.0');
});
