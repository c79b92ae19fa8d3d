// Delta updates end to end (issue 19, docs/delta-updates.md): real ext4 images, the real CLI
// signing and publishing the chunk index, a real server on 127.0.0.1 and the real agent
// process. The device builds 2.0.0 from its running 1.0.0 image, downloads a small part of
// it, survives a SIGKILL in the middle, installs a byte-identical image, and falls back to the
// full download by itself when the index or a chunk has been tampered with.
import t, { type Test } from 'tap';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request as httpRequest, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { startAgentProcess, waitFor } from '../helpers/agent.js';
import { deltaScenario, sha256File } from './scenario.js';

type Scenario = Awaited<ReturnType<typeof deltaScenario>>;

async function runToCommit(t: Test, scenario: Scenario, environment: Record<string, string> = {}) {
  const agent = startAgentProcess(scenario.device, environment);
  t.teardown(agent.stop);
  await waitFor(async () => (await scenario.events()).some((event) => event.state === 'committed'), 'the commit', 90_000).catch(
    (error: Error) => {
      t.fail(`${error.message}\n${agent.output()}`);
    },
  );
  await agent.stop();
  return agent.output();
}

async function installedIsNewImage(t: Test, scenario: Scenario) {
  const installed = join(scenario.device.slots.b, 'image.bin');
  t.equal(await sha256File(installed), await sha256File(scenario.pair.new), 'the installed image is byte-identical to 2.0.0');
}

const downloadedDetail = async (scenario: Scenario) =>
  (await scenario.events()).find((event) => event.state === 'downloaded')?.detail ?? null;

t.test('a device on 1.0.0 updates to 2.0.0 downloading a small part of the image, and the plan shows the saving', async (t) => {
  const scenario = await deltaScenario(t);
  const output = await runToCommit(t, scenario);
  await installedIsNewImage(t, scenario);
  const { delivery } = await scenario.plan();
  const full = statSync(scenario.pair.new).size;
  t.match(delivery, { devices: 1, deltaDevices: 1, bytesFull: full }, 'the plan counts one device updated by delta');
  t.ok(delivery.bytesDownloaded > 0 && delivery.bytesDownloaded < full * 0.15, `downloaded ${delivery.bytesDownloaded} of ${full} bytes`, {
    output,
  });
  t.equal(delivery.bytesSaved, full - delivery.bytesDownloaded);
  t.notOk(await downloadedDetail(scenario), 'no fallback was needed');
  // The installed artifact is kept, with its verified index, as the next update's seed.
  const kept = join(scenario.device.dataDir, 'installed');
  t.ok(
    existsSync(join(kept, 'artifact.bin')) && existsSync(join(kept, 'artifact.chunks')),
    'the installed artifact and its index are kept',
  );
  t.match(JSON.parse(readFileSync(join(kept, 'artifact.json'), 'utf8')), { size: full, parameters: { averageSize: 4096 } });
});

t.test('a SIGKILL in the middle of the delta resumes from the verified chunks on disk', async (t) => {
  const scenario = await deltaScenario(t);
  const killed = startAgentProcess(scenario.device, { SLUICE_DELTA_KILL_AFTER_REQUESTS: '20' });
  t.teardown(killed.stop);
  const exit = await killed.exited;
  t.equal(exit.signal, 'SIGKILL', 'the agent died in the middle of the delta');
  const partial = join(scenario.device.dataDir, 'partial');
  const written = readdirSync(partial)
    .filter((name) => name.endsWith('.part'))
    .map((name) => statSync(join(partial, name)).size);
  t.ok(written.length === 1 && written[0] > 0, 'verified chunks of the new image are on disk', { written });
  const output = await runToCommit(t, scenario);
  t.match(output, /delta: resuming at chunk [1-9]/, 'the second run continued where the first stopped');
  await installedIsNewImage(t, scenario);
  const { delivery } = await scenario.plan();
  t.equal(delivery.deltaDevices, 1);
  t.ok(
    delivery.bytesDownloaded < delivery.bytesFull * 0.15,
    `both runs together downloaded ${delivery.bytesDownloaded} of ${delivery.bytesFull}`,
  );
});

t.test('a tampered chunk index is refused and the agent downloads the whole artifact', async (t) => {
  const scenario = await deltaScenario(t);
  // The store's copy of the index is replaced: the server (or whoever holds the bucket) lies.
  const manifest = JSON.parse(readFileSync(scenario.manifestPath, 'utf8'));
  const digest = manifest.signed.chunkIndex.sha256 as string;
  const stored = join(scenario.server.dataDir, 'artifacts', digest.slice(0, 2), digest);
  const bytes = readFileSync(stored);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(stored, bytes);
  await runToCommit(t, scenario);
  await installedIsNewImage(t, scenario);
  t.match(await downloadedDetail(scenario), /delta unusable \(index_mismatch/, 'the event says why');
  t.match((await scenario.plan()).delivery, { devices: 1, deltaDevices: 0 }, 'counted as a full download');
});

/**
 * An HTTP proxy that flips one byte in the answers to the delta's closed ranges (bytes=a-b): a
 * lying server or cache. The full download's open range (bytes=n-) passes untouched.
 */
async function chunkTamperingProxy(upstream: string) {
  const target = new URL(upstream);
  const proxy = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const forwarded = httpRequest(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        const tamper =
          answer.statusCode === 206 &&
          /\/artifact$/.test(incoming.url ?? '') &&
          /^bytes=\d+-\d+$/.test(String(incoming.headers.range ?? ''));
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        let first = tamper;
        answer.on('data', (data: Buffer) => {
          if (first) {
            data[0] ^= 0x01;
            first = false;
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
  return { url: `http://127.0.0.1:${(proxy.address() as { port: number }).port}` };
}

t.test('a tampered chunk is refused and the agent downloads the rest of the artifact in full', async (t) => {
  const scenario = await deltaScenario(t, { proxy: chunkTamperingProxy });
  await runToCommit(t, scenario);
  await installedIsNewImage(t, scenario);
  t.match(await downloadedDetail(scenario), /delta unusable \(chunk_mismatch/, 'the event says why');
  t.match((await scenario.plan()).delivery, { devices: 1, deltaDevices: 0 });
});
