// The S3 rows of `npm run bench` (issue 16, "Benchmarks"): upload ingest and 1- and 20-client
// downloads through the S3 store against the same on the filesystem store in the same run,
// and, with redirect delivery, the server's CPU time per GiB delivered against streaming it.
// The object store is moto's server on loopback (Python: its own throughput bounds the S3
// rows, which measure what sluice adds, not what AWS would deliver). Downloads alternate
// filesystem and S3 rounds; medians of BENCH_ROUNDS (default 3).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, Agent } from 'undici';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { makeArtifact, ingest, downloadThroughput } from './transfer.js';
import { startSluice, sluiceScript, cpuSeconds } from './processes.js';
import { startMoto } from '../test/helpers/object-store.js';
import type { Row } from './postgres-rows.js';

type Record = (row: Row) => void;
type Log = (line: string) => void;

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ratio = (value: number, baseline: number) => Math.round((value / baseline) * 100) / 100;

/** `clients` concurrent downloads that follow the server's redirect to the store (without the token there). */
async function redirectedThroughput(url: string, clients: number, expectedBytes: number, token: string): Promise<number> {
  const dispatcher = new Agent({ connections: clients, bodyTimeout: 0, headersTimeout: 0 });
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const answer = await request(url, { dispatcher, headers: { authorization: `Bearer ${token}` } });
      await answer.body.dump();
      if (answer.statusCode !== 307) throw new Error(`${url}: HTTP ${answer.statusCode}, not a redirect`);
      const object = await request(String(answer.headers.location), { dispatcher });
      let bytes = 0;
      for await (const chunk of object.body) bytes += (chunk as Buffer).length;
      if (object.statusCode !== 200 || bytes !== expectedBytes)
        throw new Error(`the store answered ${object.statusCode} with ${bytes} bytes`);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await dispatcher.close();
  return (clients * expectedBytes) / (1024 * 1024) / seconds;
}

async function preparedServer(dataDir: string, extra: string[], artifact: string, version: string) {
  const server = await startSluice(dataDir, extra);
  const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  const api = (path: string, body: unknown) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((response) => response.json() as Promise<{ [name: string]: string }>);
  await api('/api/v1/products', { id: 'emu', name: 'EMU' });
  const releaseToken = (await api('/api/v1/users', { username: 'bench-release', role: 'release' })).token;
  const manifest = join(dataDir, `manifest-${version}.json`);
  execFileSync(process.execPath, [
    sluiceScript,
    'release',
    'sign',
    artifact,
    '--key',
    join(dataDir, 'keys', 'release.key'),
    '--product',
    'emu',
    '--version',
    version,
    '--hardware',
    'emu-hw-1',
    '--out',
    manifest,
  ]);
  return { server, admin, releaseToken, manifest };
}

export async function s3Rows(record: Record, log: Log, mebibytes: number): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sluice-bench-s3-'));
  const moto = await startMoto();
  const bucket = 'sluice-bench';
  const env = {
    AWS_ENDPOINT_URL: moto.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench-secret',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const client = new S3Client({
    endpoint: moto.url,
    region: env.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  // The measured servers read the AWS_* variables, as any AWS tool would.
  Object.assign(process.env, env);
  const store = ['--artifact-store', `s3://${bucket}/bench`];
  try {
    const large = join(work, 'large.bin');
    const artifact = join(work, 'image.bin');
    await makeArtifact(large, 1024);
    await makeArtifact(artifact, mebibytes);
    const size = mebibytes * 1024 * 1024;

    log('S3: upload ingest, 1 GiB, filesystem store then S3 store');
    const files = await preparedServer(join(work, 'fs'), [], large, '2.0.0');
    const s3 = await preparedServer(join(work, 's3'), store, large, '2.0.0');
    const fileIngest = await ingest(files.server.url, files.server.child.pid!, large, files.manifest, files.releaseToken);
    const s3Ingest = await ingest(s3.server.url, s3.server.child.pid!, large, s3.manifest, s3.releaseToken);
    record({
      measurement: 'release upload ingest, 1 GiB, S3 store (multipart to moto on loopback)',
      value: `${s3Ingest.seconds.toFixed(2)} s, server peak RSS ${s3Ingest.serverPeakRssMiB.toFixed(0)} MiB`,
      baseline: `filesystem store ${fileIngest.seconds.toFixed(2)} s, peak RSS ${fileIngest.serverPeakRssMiB.toFixed(0)} MiB`,
      ratio: ratio(fileIngest.seconds, s3Ingest.seconds),
      target: 'RSS < 150 MiB',
    });
    rmSync(large, { force: true });

    // The downloads' artifact: BENCH_MIB, published to both.
    const fileManifest = join(work, 'fs', 'manifest-download.json');
    const s3Manifest = join(work, 's3', 'manifest-download.json');
    execFileSync(process.execPath, [
      sluiceScript,
      'release',
      'sign',
      artifact,
      '--key',
      join(work, 'fs', 'keys', 'release.key'),
      '--product',
      'emu',
      '--version',
      '3.0.0',
      '--hardware',
      'emu-hw-1',
      '--out',
      fileManifest,
    ]);
    execFileSync(process.execPath, [
      sluiceScript,
      'release',
      'sign',
      artifact,
      '--key',
      join(work, 's3', 'keys', 'release.key'),
      '--product',
      'emu',
      '--version',
      '3.0.0',
      '--hardware',
      'emu-hw-1',
      '--out',
      s3Manifest,
    ]);
    await ingest(files.server.url, files.server.child.pid!, artifact, fileManifest, files.releaseToken);
    await ingest(s3.server.url, s3.server.child.pid!, artifact, s3Manifest, s3.releaseToken);
    const releaseUrl = async (url: string, token: string) => {
      const listed = (await (await fetch(`${url}/api/v1/releases`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        id: string;
        version: string;
      }[];
      return `${url}/api/v1/releases/${listed.find((release) => release.version === '3.0.0')!.id}/artifact`;
    };
    const fileUrl = await releaseUrl(files.server.url, files.admin);
    const s3Url = await releaseUrl(s3.server.url, s3.admin);

    let streamedCpu = 0;
    let streamedMiB = 0;
    for (const clients of [1, 20]) {
      log(`S3: downloads, ${clients} client(s), filesystem and S3 stores alternating`);
      const results: { files: number; s3: number }[] = [];
      for (let round = 0; round < rounds; round++) {
        const fileRate = await downloadThroughput(fileUrl, clients, size, files.admin);
        const cpuBefore = cpuSeconds(s3.server.child.pid!);
        const s3Rate = await downloadThroughput(s3Url, clients, size, s3.admin);
        streamedCpu += cpuSeconds(s3.server.child.pid!) - cpuBefore;
        streamedMiB += (clients * size) / (1024 * 1024);
        results.push({ files: fileRate, s3: s3Rate });
      }
      const fileRate = median(results.map((result) => result.files));
      const s3Rate = median(results.map((result) => result.s3));
      record({
        measurement: `download, ${clients} client(s), S3 store streamed through sluice (median of ${rounds})`,
        value: `${s3Rate.toFixed(0)} MiB/s`,
        baseline: `filesystem store ${fileRate.toFixed(0)} MiB/s`,
        ratio: ratio(s3Rate, fileRate),
        target: '— (moto bounds it)',
      });
    }
    await files.server.stop();
    await s3.server.stop();

    log("S3: redirect delivery, the server's CPU per GiB");
    const redirecting = await startSluice(join(work, 's3'), [...store, '--artifact-delivery', 'redirect']);
    let redirectedCpu = 0;
    let redirectedMiB = 0;
    const rates: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const cpuBefore = cpuSeconds(redirecting.child.pid!);
      rates.push(await redirectedThroughput(s3Url.replace(s3.server.url, redirecting.url), 20, size, s3.admin));
      redirectedCpu += cpuSeconds(redirecting.child.pid!) - cpuBefore;
      redirectedMiB += (20 * size) / (1024 * 1024);
    }
    await redirecting.stop();
    const perGiB = (cpu: number, mebibytesDelivered: number) => cpu / (mebibytesDelivered / 1024);
    record({
      measurement: `download, 20 clients, redirect to pre-signed URLs: server CPU per GiB delivered (median ${median(rates).toFixed(0)} MiB/s from moto)`,
      value: `${perGiB(redirectedCpu, redirectedMiB).toFixed(3)} CPU-s/GiB`,
      baseline: `streamed from S3 ${perGiB(streamedCpu, streamedMiB).toFixed(3)} CPU-s/GiB`,
      ratio: ratio(perGiB(redirectedCpu, redirectedMiB), perGiB(streamedCpu, streamedMiB)),
      target: 'near 0',
    });
  } finally {
    moto.process.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}
