// Each attack of DESIGN.md's trust model, served by the fake server to an agent in this
// process (the same attacks against the real agent process: test/attacks): refused, reported
// with a code the server can count, nothing installed, the old version still running.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { signDocument } from '../../signing/signed.js';
import { generateKeyPair } from '../../signing/keys.js';
import { startFakeServer, throwAwayTrust, manifestFor, type FakeServer, type TrustKeys } from './helpers/fake-server.js';
import { makeDevice, manualClock, startAgent } from './helpers/device.js';

const artifact = randomBytes(128 * 1024);
const hour = 3600_000;

interface Attack {
  name: string;
  code: string;
  arrange: (server: FakeServer, keys: TrustKeys) => void;
}

const signed = (keys: TrustKeys, fields: Record<string, unknown> = {}) => signDocument(manifestFor(artifact, fields), [keys.release]);

const attacks: Attack[] = [
  {
    name: 'arbitrary software: an unsigned manifest',
    code: 'manifest_invalid',
    arrange: (server) => {
      server.script.offer!.manifest = { signed: manifestFor(artifact), signatures: [] };
    },
  },
  {
    name: 'arbitrary software: signed by a key the root does not know',
    code: 'manifest_invalid',
    arrange: (server) => {
      server.script.offer!.manifest = signDocument(manifestFor(artifact), [generateKeyPair().privateKey]);
    },
  },
  {
    name: 'arbitrary software: signed by the online server key, not a release key',
    code: 'manifest_invalid',
    arrange: (server, keys) => {
      server.script.offer!.manifest = signDocument(manifestFor(artifact), [keys.server]);
    },
  },
  {
    name: 'arbitrary software: a signed manifest edited afterwards (other digest)',
    code: 'manifest_invalid',
    arrange: (server, keys) => {
      const document = signed(keys);
      server.script.offer!.manifest = {
        ...document,
        signed: { ...document.signed, artifact: { ...document.signed.artifact, sha256: 'f'.repeat(64) } },
      };
    },
  },
  {
    name: 'mix-and-match: tampered bytes under a valid manifest',
    code: 'digest_mismatch',
    arrange: (server) => {
      const bytes = Buffer.from(artifact);
      bytes[100] ^= 1;
      server.script.offer!.bytes = bytes;
    },
  },
  {
    name: 'endless data: more bytes than the manifest says',
    code: 'download_too_large',
    arrange: (server) => {
      server.script.endlessExtraBytes = 10 * 1024 * 1024;
    },
  },
  {
    name: 'rollback: an older version',
    code: 'version_not_newer',
    arrange: (server, keys) => {
      server.script.offer!.manifest = signed(keys, { version: '0.9.0' });
    },
  },
  {
    name: 'rollback: the plan says downgrade, the release engineers did not sign one',
    code: 'version_not_newer',
    arrange: (server, keys) => {
      server.script.offer!.manifest = signed(keys, { version: '0.9.0' });
      server.script.offer!.downgrade = true;
    },
  },
  {
    name: 'rollback: a signed downgrade, but not of the version running',
    code: 'replaces_mismatch',
    arrange: (server, keys) => {
      server.script.offer!.manifest = signed(keys, { version: '0.9.0', downgrade: true, replaces: '>=2.0.0' });
      server.script.offer!.downgrade = true;
    },
  },
  {
    name: 'wrong product',
    code: 'product_mismatch',
    arrange: (server, keys) => {
      server.script.offer!.manifest = signed(keys, { product: 'gateway' });
    },
  },
  {
    name: 'wrong hardware',
    code: 'hardware_mismatch',
    arrange: (server, keys) => {
      server.script.offer!.manifest = signed(keys, { hardware: ['emu-hw-2'] });
    },
  },
  {
    name: 'an expired manifest',
    code: 'manifest_expired',
    arrange: (server, keys) => {
      server.script.offer!.manifest = signed(keys, { expires: '2020-01-01T00:00:00Z' });
    },
  },
  {
    name: 'freeze: an expired check-in answer',
    code: 'checkin_expired',
    arrange: (server) => {
      server.script.rewrite = (answer) => ({ ...answer, expires: '2020-01-01T00:00:00Z' });
    },
  },
  {
    name: 'replay: the first answer served again',
    code: 'checkin_nonce_mismatch',
    arrange: (server) => {
      server.script.replayFirstAnswer = true;
    },
  },
  {
    name: 'a check-in answer signed by a release key',
    code: 'checkin_signature_invalid',
    arrange: (server, keys) => {
      server.script.signWith = keys.release;
    },
  },
  {
    name: 'a check-in answer meant for another device',
    code: 'checkin_wrong_device',
    arrange: (server) => {
      server.script.deviceId = 'emu-0002';
    },
  },
];

for (const attack of attacks) {
  t.test(attack.name, async (t) => {
    const trust = throwAwayTrust();
    const clock = manualClock(new Date());
    const server = await startFakeServer({ keys: trust.keys, now: clock.now });
    t.teardown(server.close);
    server.script.offer = {
      id: 'a1',
      manifest: signed(trust.keys),
      bytes: artifact,
      installAllowed: true,
      downgrade: false,
      window: {
        start: new Date(clock.now().getTime() - hour).toISOString(),
        end: new Date(clock.now().getTime() + 3 * hour).toISOString(),
      },
    };
    attack.arrange(server, trust.keys);
    const device = makeDevice(t, { server: server.url, rootDocument: trust.rootDocument });
    const agent = startAgent(device, { now: clock.now });
    for (let step = 0; step < 20 && !server.seen.recorded.some((event) => event.detail?.startsWith(attack.code)); step++) {
      await agent.step();
      clock.advance(1000);
    }
    const report = server.seen.recorded.find((event) => event.detail?.startsWith(`${attack.code}:`));
    t.ok(report, `refused and reported as ${attack.code}`);
    if (!report) t.comment(JSON.stringify(server.seen.recorded));
    // A few more cycles: it must not go ahead anyway.
    for (let step = 0; step < 6; step++) {
      await agent.step();
      clock.advance(1000);
    }
    t.notOk(
      server.states().some((state) => ['installing', 'health_check', 'committed'].includes(state)),
      'never installed',
    );
    t.same(readdirSync(device.slots.a).concat(readdirSync(device.slots.b)), [], 'both slots untouched');
    t.same(agent.state.device, { version: '1.0.0', activeSlot: 'a' }, 'still the old version in the old slot');
  });
}
