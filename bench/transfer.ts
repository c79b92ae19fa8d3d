// Artifact transfer benchmarks: upload ingest (stream, hash, verify, store) against
// sha256sum and openssl; downloads from sluice against a plain node:http pipe and nginx
// with sendfile; sluice behind nginx through X-Accel-Redirect.
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { once } from 'node:events';
import { request, Agent } from 'undici';
import { root, startProcess, sluiceScript } from './processes.js';
import { peakRssMiB } from './process-status.js';
import { publishRelease } from '../cli/release-publish.js';
// @ts-expect-error: plain JavaScript build script without type declarations
import { bundle } from '../build/agent.mjs';

export async function makeArtifact(path: string, mebibytes: number): Promise<void> {
  const stream = createWriteStream(path);
  for (let index = 0; index < mebibytes; index++) {
    if (!stream.write(randomBytes(1024 * 1024))) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

export function timeCommand(command: string, args: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Publishes through the real CLI; returns seconds and the server's peak RSS. */
export function publish(serverUrl: string, serverPid: number, artifact: string, manifest: string, token: string) {
  const seconds = timeCommand(process.execPath, [
    sluiceScript,
    'release',
    'publish',
    artifact,
    '--manifest',
    manifest,
    '--server',
    serverUrl,
    '--token',
    token,
  ]);
  return { seconds, serverPeakRssMiB: peakRssMiB(serverPid) };
}

/** The same upload timed inside this process: the server's ingest without the CLI's start-up. */
export async function ingest(serverUrl: string, serverPid: number, artifact: string, manifest: string, token: string) {
  const started = process.hrtime.bigint();
  await publishRelease({ artifactPath: artifact, manifestPath: manifest, server: serverUrl, token });
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, serverPeakRssMiB: peakRssMiB(serverPid) };
}

/** `clients` concurrent full downloads; returns MiB/s over all of them. */
export async function downloadThroughput(url: string, clients: number, expectedBytes: number, token?: string): Promise<number> {
  const dispatcher = new Agent({ connections: clients, bodyTimeout: 0, headersTimeout: 0 });
  const started = process.hrtime.bigint();
  const totals = await Promise.all(
    Array.from({ length: clients }, async () => {
      const response = await request(url, { dispatcher, headers: token ? { authorization: `Bearer ${token}` } : {} });
      if (response.statusCode !== 200) throw new Error(`${url}: HTTP ${response.statusCode}`);
      let bytes = 0;
      for await (const chunk of response.body) bytes += (chunk as Buffer).length;
      return bytes;
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await dispatcher.close();
  if (totals.some((bytes) => bytes !== expectedBytes)) throw new Error(`${url}: short download`);
  return (clients * expectedBytes) / (1024 * 1024) / seconds;
}

export async function startNodePipe(file: string) {
  const script = `import { createServer } from 'node:http'; import { createReadStream, statSync } from 'node:fs';
const size = statSync(${JSON.stringify(file)}).size;
const server = createServer((request, response) => { response.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' }); createReadStream(${JSON.stringify(file)}, { highWaterMark: 1024 * 1024 }).pipe(response); });
server.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port));`;
  const started = await startProcess(process.execPath, ['--input-type=module', '-e', script], /listening on (http:\/\/[\d.:]+)/);
  return { ...started, url: started.match[1] };
}

/**
 * nginx on an ephemeral port: `/file/` serves the artifact directory with sendfile, and `/`
 * proxies to sluice, whose X-Accel-Redirect answers are served from the internal `/protected/`
 * location (the documented front in BENCHMARKS.md).
 */
export async function startNginx(directory: string, fileDirectory: string, artifactStore: string, sluiceUrl: string) {
  mkdirSync(join(directory, 'logs'), { recursive: true });
  const port = 20000 + Math.floor(Math.random() * 20000);
  // Workers must read the temporary directories the benchmark made (mode 0700, owned by us).
  const user = process.getuid?.() === 0 ? 'user root; ' : '';
  const config = `${user}worker_processes 2; pid ${directory}/nginx.pid; error_log ${directory}/logs/error.log; daemon off;
events { worker_connections 1024; }
http {
  access_log off; sendfile on; tcp_nopush on; client_body_temp_path ${directory}/body; proxy_temp_path ${directory}/proxy;
  fastcgi_temp_path ${directory}/fastcgi; uwsgi_temp_path ${directory}/uwsgi; scgi_temp_path ${directory}/scgi;
  server {
    listen 127.0.0.1:${port};
    location /file/ { alias ${fileDirectory}/; }
    location /protected/ { internal; alias ${artifactStore}/; }
    location / { proxy_pass ${sluiceUrl}; proxy_set_header Host $host; proxy_buffering off; client_max_body_size 0; }
  }
}`;
  writeFileSync(join(directory, 'nginx.conf'), config);
  execFileSync('nginx', ['-t', '-c', join(directory, 'nginx.conf'), '-p', directory], { stdio: 'ignore' });
  const started = await startProcess(
    'sh',
    ['-c', `nginx -c ${join(directory, 'nginx.conf')} -p ${directory} & echo started; wait`],
    /started/,
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  return {
    ...started,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      spawnSync('sh', ['-c', `kill $(cat ${directory}/nginx.pid) 2>/dev/null`]);
      await started.stop();
    },
  };
}

/**
 * The agent's download + verification in its own process, built as a device runs it (the
 * prebuilt bundle of `npm run build:agent`, plain node, no TypeScript loader).
 */
export async function agentDownload(
  work: string,
  url: string,
  token: string,
  size: number,
  sha256: string,
): Promise<{ seconds: number; peakRssMiB: number }> {
  const child = join(work, 'agent-download-child.mjs');
  await bundle(join(root, 'bench', 'agent-download-child.ts'), child);
  const path = join(work, 'agent.part');
  const started = await startProcess(process.execPath, [child, url, token, String(size), sha256, path], /\{.*\}/);
  rmSync(path, { force: true });
  return JSON.parse(started.match[0]);
}
