// Delta updates end to end (issue 19, docs/delta-updates.md): real ext4 images, the real CLI
// signing and publishing the chunk index, one real server on 127.0.0.1 for the whole file and
// the real (bundled) agent process, one device per case. A device builds 2.0.0 from its
// running 1.0.0 image, downloads a small part of it, survives a SIGKILL in the middle,
// installs a byte-identical image, and falls back to the full download by itself when the
// index or a chunk has been tampered with; the plan counts what each way cost.
import t from 'tap';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { request as httpRequest, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { deltaServer, sha256File } from './scenario.js';
import type { DeviceOnDisk } from '../helpers/agent.js';

const shared = await deltaServer(t, { devices: ['emu-0001', 'emu-0002', 'emu-0003', 'emu-0004'] });
const full = statSync(shared.pair.new).size;
const newImage = await sha256File(shared.pair.new);

const installedIsNewImage = async (device: DeviceOnDisk) => sha256File(join(device.slots.b, 'image.bin'));
const downloaded = async (id: string) => (await shared.events(id)).find((event) => event.state === 'downloaded')?.detail ?? null;

/**
 * An HTTP proxy that flips one byte in some answers of the server: a lying server or cache.
 * `pick` chooses them by path and Range header.
 */
async function tamperingProxy(pick: (path: string, range: string) => boolean) {
  const target = new URL(shared.url);
  const proxy = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const forwarded = httpRequest(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        let tamper = (answer.statusCode ?? 0) < 300 && pick(incoming.url ?? '', String(incoming.headers.range ?? ''));
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', (data: Buffer) => {
          if (tamper) {
            data[data.length - 1] ^= 0x01;
            tamper = false;
          }
          outgoing.write(data);
        });
        answer.on('end', () => outgoing.end());
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
}

t.test('a device on 1.0.0 updates to 2.0.0 downloading a small part of the image, and the plan shows the saving', async (t) => {
  const device = shared.device('emu-0001');
  const output = await shared.runToCommit(device, 'emu-0001');
  t.equal(await installedIsNewImage(device), newImage, 'the installed image is byte-identical to 2.0.0');
  const { delivery } = await shared.plan();
  t.match(delivery, { devices: 1, deltaDevices: 1, bytesFull: full }, 'the plan counts one device updated by delta');
  t.ok(delivery.bytesDownloaded > 0 && delivery.bytesDownloaded < full * 0.15, `downloaded ${delivery.bytesDownloaded} of ${full} bytes`, {
    output,
  });
  t.equal(delivery.bytesSaved, full - delivery.bytesDownloaded);
  t.notOk(await downloaded('emu-0001'), 'no fallback was needed');
  // The installed artifact is kept, with its verified index, as the next update's seed.
  const kept = join(device.dataDir, 'installed');
  t.ok(
    existsSync(join(kept, 'artifact.bin')) && existsSync(join(kept, 'artifact.chunks')),
    'the installed artifact and its index are kept',
  );
  t.match(JSON.parse(readFileSync(join(kept, 'artifact.json'), 'utf8')), { size: full, parameters: { averageSize: 4096 } });
  // The running image it was built from was cut once and remembered (client/delta/seed.ts).
  t.match(
    JSON.parse(readFileSync(join(device.dataDir, 'source', 'source.json'), 'utf8')),
    { path: /old\.ext4$/, size: Number, parameters: { averageSize: 4096 } },
    "the running image's cut is remembered",
  );
});

/**
 * After the first case, the other three devices run at once (their own agents, proxies and
 * slots; one server): the file takes the longest of them, not their sum.
 */
function startTheOthers() {
  const settle = <T>(promise: Promise<T>) =>
    promise.then(
      (value) => ({ value }),
      (error: Error) => ({ error }),
    );
  const killedFirst = async () => {
    const device = shared.device('emu-0002');
    const killed = shared.start(device, { SLUICE_DELTA_KILL_AFTER_REQUESTS: '10' });
    const exit = await killed.exited;
    const partial = join(device.dataDir, 'partial');
    const written = readdirSync(partial)
      .filter((name) => name.endsWith('.part'))
      .map((name) => statSync(join(partial, name)).size);
    const output = await shared.runToCommit(device, 'emu-0002');
    return { device, exit, written, output };
  };
  // The server (or whoever holds the bucket) answers with an index other than the signed one.
  const indexTampered = async () => {
    const device = shared.device('emu-0003', await tamperingProxy((path) => path.endsWith('/chunk-index')));
    await shared.runToCommit(device, 'emu-0003');
    return device;
  };
  // The delta's ranges of the chunk pack (compressed chunks) are altered; the full download is not.
  const chunkTampered = async () => {
    const device = shared.device(
      'emu-0004',
      await tamperingProxy((path, range) => path.endsWith('/chunk-pack') && /^bytes=\d+-\d+$/.test(range)),
    );
    await shared.runToCommit(device, 'emu-0004');
    return device;
  };
  return { killed: settle(killedFirst()), index: settle(indexTampered()), chunk: settle(chunkTampered()) };
}
let others: ReturnType<typeof startTheOthers> | undefined;
async function result<T>(run: Promise<{ value: T } | { error: Error }>): Promise<T> {
  const settled = await run;
  if ('error' in settled) throw settled.error;
  return settled.value;
}

t.test('a SIGKILL in the middle of the delta resumes from the verified chunks on disk', async (t) => {
  others ??= startTheOthers();
  const { device, exit, written, output } = await result(others.killed);
  t.equal(exit.signal, 'SIGKILL', 'the agent died in the middle of the delta');
  t.ok(written.length === 1 && written[0] > 0 && written[0] < full, 'verified chunks of the new image are on disk', { written });
  t.match(output, /delta: resuming at chunk [1-9]/, 'the second run continued where the first stopped');
  const fetched = Number(/delta: (\d+) of \d+ bytes downloaded/.exec(output)?.[1]);
  t.ok(fetched < full * 0.15, `both runs together downloaded ${fetched} of ${full}`);
  t.equal(await installedIsNewImage(device), newImage, 'the installed image is byte-identical to 2.0.0');
});

t.test('a tampered chunk index is refused and the agent downloads the whole artifact', async (t) => {
  others ??= startTheOthers();
  const device = await result(others.index);
  t.equal(await installedIsNewImage(device), newImage, 'the installed image is byte-identical to 2.0.0');
  t.match(await downloaded('emu-0003'), /delta unusable \(index_mismatch/, 'the event says why');
});

t.test('a tampered chunk of the pack is refused and the agent downloads the rest of the artifact in full', async (t) => {
  others ??= startTheOthers();
  const device = await result(others.chunk);
  t.equal(await installedIsNewImage(device), newImage, 'the installed image is byte-identical to 2.0.0');
  t.match(await downloaded('emu-0004'), /delta unusable \(chunk_mismatch/, 'the event says why');
});

t.test('the plan counts the resumed delta as a delta and the two fallbacks as full downloads', async (t) => {
  const { delivery } = await shared.plan();
  t.match(delivery, { devices: 4, deltaDevices: 2, bytesFull: 4 * full });
  t.ok(
    delivery.bytesDownloaded > 2 * full && delivery.bytesDownloaded < 2 * full * 1.15 + 2 * full * 0.15,
    `${delivery.bytesDownloaded} bytes`,
  );
});
