// The check-in signer (server/services/checkin-signer.ts): signatures made on a worker thread
// in batches, each one over its own message, on the event loop when the worker dies or the
// signer is closed, and the same signatures with no thread at all.
import t from 'tap';
import { generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { createCheckinSigner } from '../../server/services/checkin-signer.js';
import { keyIdOf } from '../../signing/keys.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const messages = Array.from({ length: 300 }, (_, index) => Buffer.concat([Buffer.from(`answer ${index} `), randomBytes(64)]));

async function signAll(signer: ReturnType<typeof createCheckinSigner>) {
  // Three turns of the event loop, so that several batches are in flight at once.
  const signatures: Promise<Buffer>[] = [];
  for (const [index, message] of messages.entries()) {
    if (index % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    signatures.push(signer.sign(message));
  }
  return Promise.all(signatures);
}

const everyOneVerifies = (signatures: Buffer[]) =>
  signatures.every((signature, index) => verify(null, messages[index], publicKey, signature));

for (const threads of [1, 0]) {
  t.test(`${threads} signing thread(s): each signature is over its own message`, async (t) => {
    const signer = createCheckinSigner(privateKey, threads);
    t.equal(signer.keyid, keyIdOf(privateKey));
    const signatures = await signAll(signer);
    t.equal(signatures.length, messages.length);
    t.ok(everyOneVerifies(signatures), 'every signature verifies against its message');
    t.notOk(verify(null, messages[1], publicKey, signatures[0]), 'and not against another one');
    await signer.close();
  });
}

t.test('a worker that dies: what it was signing is signed on the event loop', async (t) => {
  const dying = "require('node:worker_threads').parentPort.on('message', () => process.exit(3));";
  const signer = createCheckinSigner(privateKey, 1, dying);
  t.ok(everyOneVerifies(await signAll(signer)), 'every signature still verifies');
  await signer.close();
});

t.test('closing while signatures are in flight finishes them', async (t) => {
  const signer = createCheckinSigner(privateKey, 1);
  const pending = signAll(signer);
  await new Promise((resolve) => setImmediate(resolve));
  await signer.close();
  t.ok(everyOneVerifies(await pending), 'every signature verifies');
  t.ok(verify(null, messages[0], publicKey, await signer.sign(messages[0])), 'a closed signer still signs, on the event loop');
});

t.test('pending: the signatures asked for and not made yet (the queue depth GET /metrics shows)', async (t) => {
  const signer = createCheckinSigner(privateKey, 1);
  t.equal(signer.pending(), 0, 'nothing asked, nothing pending');
  const signatures = messages.slice(0, 50).map((message) => signer.sign(message));
  t.equal(signer.pending(), 50, 'queued for the next batch');
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(signer.pending() > 0, 'sent to the worker and not back yet');
  await Promise.all(signatures);
  t.equal(signer.pending(), 0, 'every one signed');
  await signer.close();
  t.equal(createCheckinSigner(privateKey, 0).pending(), 0, 'without a thread nothing ever waits');
});
