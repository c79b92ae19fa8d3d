// Remote support on the device (DESIGN.md, "Faults and remote support"): only when the
// check-in asks, the agent runs the collectors configured on the device (never commands from
// the server), bounded by maxBytes, and uploads one bundle per session, even across restarts.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startFakeServer, throwAwayTrust } from './helpers/fake-server.js';
import { makeDevice, manualClock, startAgent } from './helpers/device.js';

t.test('one bundle per session, of the configured collectors, bounded, kept across restarts', async (t) => {
  const trust = throwAwayTrust();
  const clock = manualClock(new Date());
  const server = await startFakeServer({ keys: trust.keys, now: clock.now });
  t.teardown(server.close);
  const device = makeDevice(t, {
    server: server.url,
    rootDocument: trust.rootDocument,
    overrides: { diagnostics: { logs: ['app.log', 'missing.log'], maxBytes: 1000 } },
  });
  writeFileSync(join(device.directory, 'app.log'), `${'noise\n'.repeat(10_000)}the last line\n`);
  const agent = startAgent(device, { now: clock.now });

  await agent.step();
  t.equal(server.seen.uploads.length, 0, 'nothing unless asked');

  // The server asks for a shell command too: it is not a collector, so it is ignored.
  server.script.diagnostics = { session: 's1', collect: ['logs', 'journal', 'system', 'rm -rf /'] };
  server.script.diagnosticsStatus = 403; // consent not live yet
  await agent.step();
  t.equal(server.seen.uploads.length, 1, 'tried once');
  server.script.diagnosticsStatus = 204;
  await agent.step();
  t.equal(server.seen.uploads.length, 2, 'refused uploads are tried again at the next check-in');
  await agent.step();
  t.equal(server.seen.uploads.length, 2, 'once taken, not again');
  const restarted = startAgent(device, { now: clock.now });
  await restarted.step();
  t.equal(server.seen.uploads.length, 2, 'not again after a restart');

  const upload = server.seen.uploads[1];
  t.equal(upload.session, 's1');
  const gzip = upload.body.subarray(upload.body.indexOf('\r\n\r\n') + 4, upload.body.lastIndexOf('\r\n--'));
  const bundle = JSON.parse(gunzipSync(gzip).toString());
  t.same(bundle.collectors.sort(), ['journal', 'logs', 'system']);
  t.equal(bundle.deviceId, 'emu-0001');
  t.match(bundle.system, { version: '1.0.0', activeSlot: 'a', node: process.version });
  t.equal(bundle.journal.journal.state, 'idle');
  const log = bundle.logs[join(device.directory, 'app.log')];
  t.match(log, /the last line\n$/, 'the end of the log');
  t.ok(Buffer.byteLength(log) <= 1000, `bounded by maxBytes (${Buffer.byteLength(log)})`);
  t.match(bundle.logs[join(device.directory, 'missing.log')], /^\(unreadable/);

  server.script.diagnostics = { session: 's2', collect: ['system'] };
  await restarted.step();
  t.equal(server.seen.uploads.length, 3, 'a new session gets its own bundle');
});

t.test('only a verified check-in answer asks: a forged, replayed, expired or misaddressed one uploads nothing', async (t) => {
  const trust = throwAwayTrust();
  const clock = manualClock(new Date());
  const server = await startFakeServer({ keys: trust.keys, now: clock.now });
  t.teardown(server.close);
  const device = makeDevice(t, { server: server.url, rootDocument: trust.rootDocument });
  const agent = startAgent(device, { now: clock.now });
  server.script.diagnostics = { session: 's1', collect: ['journal', 'system'] };
  const refusals: [string, () => void][] = [
    [
      'signed by a release key',
      () => {
        server.script.signWith = trust.keys.release;
      },
    ],
    [
      'bound to another nonce',
      () => {
        server.script.rewrite = (answer) => ({ ...answer, nonce: 'ab'.repeat(32) });
      },
    ],
    [
      'expired',
      () => {
        server.script.rewrite = (answer) => ({ ...answer, expires: '2020-01-01T00:00:00Z' });
      },
    ],
    [
      'for another device',
      () => {
        server.script.deviceId = 'emu-0002';
      },
    ],
  ];
  for (const [name, arrange] of refusals) {
    arrange();
    await agent.step();
    t.equal(server.seen.uploads.length, 0, `${name}: nothing uploaded`);
    Object.assign(server.script, { signWith: null, rewrite: null, deviceId: 'emu-0001' });
  }
  t.ok(server.seen.recorded.filter((event) => event.detail?.startsWith('checkin_')).length >= 3, 'the refusals were reported');
  await agent.step();
  t.same(
    server.seen.uploads.map((upload) => upload.session),
    ['s1'],
    'a verified answer gets its one bundle, from the configured server',
  );
});
