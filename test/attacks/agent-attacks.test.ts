// DESIGN.md's trust model, attacked through a real agent process: each attack is refused,
// reported with a code the server can count, and nothing is installed. The server may be the
// attacker (it holds the online key): it still cannot get the device token sent elsewhere,
// nor have an old release installed over and over.
import t, { type Test } from 'tap';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readStateFile } from '../../client/state-file.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { signDocument } from '../../signing/signed.js';
import { generateKeyPair } from '../../signing/keys.js';
import { makeTrust, startRogueServer, releaseManifest, type Script } from '../helpers/rogue-server.js';
import { prepareDevice, startAgentProcess, waitFor } from '../helpers/agent.js';
import { startObjectStore } from '../client/helpers/object-store.js';

const bytes = randomBytes(64 * 1024);

interface Attack {
  name: string;
  code: RegExp;
  script: (trust: ReturnType<typeof makeTrust>) => Script;
}

const attacks: Attack[] = [
  {
    name: 'arbitrary software: an unsigned manifest',
    code: /manifest_invalid/,
    script: () => ({ manifest: { signed: releaseManifest(bytes), signatures: [] }, bytes }),
  },
  {
    name: 'arbitrary software: a manifest signed by an unknown key',
    code: /manifest_invalid/,
    script: () => ({ manifest: signDocument(releaseManifest(bytes), [generateKeyPair().privateKey]), bytes }),
  },
  {
    name: 'arbitrary software: a manifest signed by the server key, not a release key',
    code: /manifest_invalid/,
    script: ({ keys }) => ({ manifest: signDocument(releaseManifest(bytes), [keys.server]), bytes }),
  },
  {
    name: 'mix-and-match: a valid manifest with other bytes',
    code: /digest_mismatch/,
    script: ({ keys }) => ({ manifest: signDocument(releaseManifest(bytes), [keys.release]), bytes: Buffer.from(bytes).fill(7, 0, 16) }),
  },
  {
    name: 'endless data: more bytes than the manifest says',
    code: /download_too_large/,
    script: ({ keys }) => ({
      manifest: signDocument(releaseManifest(bytes), [keys.release]),
      bytes: Buffer.concat([bytes, randomBytes(4096)]),
    }),
  },
  {
    name: 'rollback: an older version',
    code: /version_not_newer/,
    script: ({ keys }) => ({ manifest: signDocument(releaseManifest(bytes, { version: '0.9.0' }), [keys.release]), bytes }),
  },
  {
    name: 'rollback: a downgrade flag the release engineers did not sign',
    code: /version_not_newer/,
    script: ({ keys }) => ({
      manifest: signDocument(releaseManifest(bytes, { version: '0.9.0' }), [keys.release]),
      bytes,
      answer: (signed) => ({ ...signed, assignment: { ...(signed.assignment as object), downgrade: true } }),
    }),
  },
  {
    name: 'rollback: a signed downgrade offered to a version it does not replace',
    code: /replaces_mismatch/,
    script: ({ keys }) => ({
      manifest: signDocument(releaseManifest(bytes, { version: '0.9.0', downgrade: true, replaces: '>=3.0.0 <3.2.0' }), [keys.release]),
      bytes,
      answer: (signed) => ({ ...signed, assignment: { ...(signed.assignment as object), downgrade: true } }),
    }),
  },
  {
    name: 'wrong product',
    code: /product_mismatch/,
    script: ({ keys }) => ({ manifest: signDocument(releaseManifest(bytes, { product: 'gateway' }), [keys.release]), bytes }),
  },
  {
    name: 'wrong hardware',
    code: /hardware_mismatch/,
    script: ({ keys }) => ({ manifest: signDocument(releaseManifest(bytes, { hardware: ['emu-hw-2'] }), [keys.release]), bytes }),
  },
  {
    name: 'an expired manifest',
    code: /manifest_expired/,
    script: ({ keys }) => ({ manifest: signDocument(releaseManifest(bytes, { expires: '2020-01-01T00:00:00Z' }), [keys.release]), bytes }),
  },
  {
    name: 'freeze: an expired check-in answer',
    code: /checkin_expired/,
    script: ({ keys }) => ({
      manifest: signDocument(releaseManifest(bytes), [keys.release]),
      bytes,
      answer: (signed) => ({ ...signed, expires: '2020-01-01T00:00:00Z' }),
    }),
  },
  {
    name: 'replay: an answer bound to another nonce',
    code: /checkin_nonce_mismatch/,
    script: ({ keys }) => ({
      manifest: signDocument(releaseManifest(bytes), [keys.release]),
      bytes,
      answer: (signed) => ({ ...signed, nonce: 'ab'.repeat(16) }),
    }),
  },
  {
    name: 'a check-in answer not signed by the server role',
    code: /checkin_signature_invalid/,
    script: ({ keys }) => ({ manifest: signDocument(releaseManifest(bytes), [keys.release]), bytes, signWith: keys.release }),
  },
];

/** A real agent process against a rogue server; stopped at teardown. */
async function attackedDevice(t: Test, script: (trust: ReturnType<typeof makeTrust>) => Script) {
  const trust = makeTrust();
  const rogue = await startRogueServer(trust.keys, script(trust));
  t.teardown(rogue.close);
  const directory = mkdtempSync(join(tmpdir(), 'sluice-attack-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const rootPath = join(directory, 'pinned-root.json');
  writeFileSync(rootPath, JSON.stringify(trust.rootDocument));
  const device = prepareDevice(join(directory, 'device'), { server: rogue.url, deviceId: 'emu-0001', token: 'd_x', rootPath });
  const agent = startAgentProcess(device);
  t.teardown(agent.stop);
  return { rogue, device, agent };
}

// Each attack is a device and a rogue server of its own, mostly waiting on the agent's polls:
// they run four at a time.
t.jobs = 4;

for (const attack of attacks) {
  t.test(attack.name, { buffered: true }, async (t) => {
    const { rogue, device, agent } = await attackedDevice(t, attack.script);
    const refused = await waitFor(
      () => rogue.events.find((event) => attack.code.test(event.detail ?? '')),
      `a report matching ${attack.code}`,
      30_000,
    ).catch((error) => {
      t.fail(`${error.message}\n${agent.output()}\n${JSON.stringify(rogue.events)}`);
      return null;
    });
    t.ok(refused, 'refused and reported with its code');
    // Give it another poll or two to be sure it does not proceed anyway.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await agent.stop();
    t.notOk(
      rogue.events.some((event) => ['installing', 'health_check', 'committed'].includes(event.state)),
      'never installed',
    );
    t.same(readdirSync(device.slots.a).concat(readdirSync(device.slots.b)), [], 'both slots untouched');
    t.equal(readStateFile(device.dataDir, '1.0.0').device.version, '1.0.0', 'still the old version');
  });
}

t.test("token theft: an artifactUrl on the attacker's host never gets the device token", { buffered: true }, async (t) => {
  const attacker = await startObjectStore(bytes);
  t.teardown(attacker.close);
  const { rogue, agent } = await attackedDevice(t, ({ keys }) => ({
    manifest: signDocument(releaseManifest(bytes), [keys.release]),
    bytes,
    answer: (signed) => ({ ...signed, assignment: { ...(signed.assignment as object), artifactUrl: `${attacker.url}/steal` } }),
  }));
  await waitFor(() => rogue.events.some((event) => event.state === 'committed'), 'the install', 30_000).catch((error) =>
    t.fail(`${error.message}\n${agent.output()}\n${JSON.stringify(rogue.events)}`),
  );
  t.ok(attacker.seen.length > 0, "the agent fetched from the attacker's host (the bytes are genuine and signed)");
  t.same(
    attacker.seen.filter((request) => request.authorization !== null),
    [],
    'without the token',
  );
});

t.test('rollback again and again: a downgrade to the very version running is not reinstalled', { buffered: true }, async (t) => {
  const { rogue, agent, device } = await attackedDevice(t, ({ keys }) => ({
    manifest: signDocument(releaseManifest(bytes, { version: '1.0.0', downgrade: true, replaces: '>=1.0.0' }), [keys.release]),
    bytes,
    answer: (signed) => ({ ...signed, assignment: { ...(signed.assignment as object), downgrade: true } }),
  }));
  // Several polls (pollAfterSeconds is 1): before the fix, each one installed it once more.
  await waitFor(() => rogue.answers.length >= 4, 'four check-ins', 30_000).catch((error) => t.fail(`${error.message}\n${agent.output()}`));
  await agent.stop();
  t.notOk(
    rogue.events.some((event) => ['downloading', 'installing', 'committed'].includes(event.state)),
    'never downloaded nor installed',
  );
  t.same(readdirSync(device.slots.a).concat(readdirSync(device.slots.b)), [], 'both slots untouched');
});
