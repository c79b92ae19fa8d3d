// The signatures of check-in answers, made on a worker thread. Each answer needs a signature
// of its own (it is bound to the device's nonce) and one Ed25519 signature costs more CPU than
// a whole bare fastify request (BENCHMARKS.md), so the event loop hands them over in batches,
// one message per turn of the loop, and goes on with HTTP and SQLite while another core
// signs. With no thread to spare (`threads: 0`, or one core) it signs on the event loop.
//
// The worker is started on the first signature, so servers that never answer a check-in
// (tests, a one-off CLI run) never pay for it, and started again if it ever dies; what it
// was signing when it died is signed on the event loop instead.
import { Worker } from 'node:worker_threads';
import { sign, type KeyObject } from 'node:crypto';
import { keyIdOf } from '../../signing/keys.js';

export interface CheckinSigner {
  keyid: string;
  sign(bytes: Buffer): Promise<Buffer>;
  /** Signatures asked for and not made yet: waiting for the next batch or on the worker. */
  pending(): number;
  close(): Promise<void>;
}

// Plain CommonJS evaluated in the worker: no file to locate, the same under tsx and built.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { sign } = require('node:crypto');
parentPort.on('message', ({ batch, messages }) => {
  parentPort.postMessage({ batch, signatures: messages.map((message) => sign(null, message, workerData.key)) });
});`;

interface Waiting {
  bytes: Buffer;
  resolve: (signature: Buffer) => void;
}

/** `source`: the worker's code; tests pass one that dies. */
export function createCheckinSigner(key: KeyObject, threads: number, source = workerSource): CheckinSigner {
  const keyid = keyIdOf(key);
  const signHere = (bytes: Buffer) => sign(null, bytes, key);
  if (threads < 1) return { keyid, sign: async (bytes) => signHere(bytes), pending: () => 0, close: async () => {} };

  let worker: Worker | null = null;
  let closed = false;
  let nextBatch = 0;
  let queued: Waiting[] = [];
  const sent = new Map<number, Waiting[]>();

  const signSentHere = () => {
    for (const waiting of sent.values()) for (const one of waiting) one.resolve(signHere(one.bytes));
    sent.clear();
  };
  const start = () => {
    const started = new Worker(source, { eval: true, workerData: { key } });
    started.on('message', ({ batch, signatures }: { batch: number; signatures: Uint8Array[] }) => {
      const waiting = sent.get(batch)!;
      sent.delete(batch);
      waiting.forEach((one, index) =>
        one.resolve(Buffer.from(signatures[index].buffer, signatures[index].byteOffset, signatures[index].byteLength)),
      );
      // Idle, the worker keeps no process alive; close() ends it.
      if (sent.size === 0) started.unref();
    });
    // An unheard 'error' would end the whole process; 'exit' follows it and recovers.
    started.on('error', () => {});
    // Only the current worker's death concerns what was sent.
    started.on('exit', () => {
      if (worker !== started) return;
      worker = null;
      signSentHere();
    });
    return started;
  };
  const flush = () => {
    const batch = queued;
    queued = [];
    if (closed) {
      for (const one of batch) one.resolve(signHere(one.bytes));
      return;
    }
    worker ??= start();
    worker.ref();
    const id = nextBatch++;
    sent.set(id, batch);
    worker.postMessage({ batch: id, messages: batch.map((entry) => entry.bytes) });
  };

  return {
    keyid,
    sign(bytes) {
      return new Promise((resolve) => {
        // Everything asked for in this turn of the event loop goes in one message.
        if (queued.length === 0) setImmediate(flush);
        queued.push({ bytes, resolve });
      });
    },
    pending() {
      let count = queued.length;
      for (const batch of sent.values()) count += batch.length;
      return count;
    },
    async close() {
      closed = true;
      const stopping = worker;
      worker = null;
      // Answers still being signed are finished here rather than dropped.
      signSentHere();
      if (stopping) await stopping.terminate();
    },
  };
}
