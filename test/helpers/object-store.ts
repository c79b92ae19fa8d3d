// A real S3 implementation on 127.0.0.1 for the tests of the S3 artifact store: moto's
// server (Python moto, which this kind of machine ships with Flask: `moto_server`), one per
// test file on an ephemeral port, with a bucket of its own. s3rver (npm) was the other
// candidate and always installs, but answers ListMultipartUploads with 501 and
// AbortMultipartUpload with 405: the store could not abort a refused upload on it, nor a test
// see that none is left.
//
// moto checks no signature and no expiry, so the server reaches it through a front on
// loopback that forwards every request unchanged and answers an expired pre-signed URL the
// way S3 does (403 AccessDenied, "Request has expired"). The front also records what each
// request carried (to see that no bearer token reaches the store, and which Range did) and
// can cut an object's answer after some bytes, as a broken connection would.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

interface Teardown {
  teardown: (fn: () => unknown) => void;
}

const required = Boolean(process.env.CI);

let motoCommand: string[] | null | undefined;

/** moto's server as a command: `moto_server` on PATH, else the module of the python3 on PATH. */
function findMoto(): string[] | null {
  if (motoCommand !== undefined) return motoCommand;
  if (spawnSync('sh', ['-c', 'command -v moto_server']).status === 0) motoCommand = ['moto_server'];
  else if (spawnSync('python3', ['-c', 'import moto.server, flask, flask_cors']).status === 0)
    motoCommand = ['python3', '-m', 'moto.server'];
  else motoCommand = null;
  return motoCommand;
}

/** Why the S3 tests do not run here, or false when they do (CI: moto must be there). */
export function objectStoreUnavailable(): string | false {
  if (findMoto()) return false;
  const reason = 'no moto_server on PATH (Python moto with Flask: README, "Running on PostgreSQL and S3")';
  if (required) throw new Error(`${reason}: required because CI is set`);
  return reason;
}

export interface StoreRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | null;
  range: string | null;
  status: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export async function startMoto(): Promise<{ url: string; process: ChildProcess }> {
  for (let attempt = 0; ; attempt += 1) {
    const port = await freePort();
    const [command, ...prefix] = findMoto() ?? ['moto_server'];
    const child = spawn(command, [...prefix, '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const up = await fetch(`${url}/moto-api/`).then(
        (response) => response.ok,
        () => false,
      );
      if (up) return { url, process: child };
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    child.kill('SIGKILL');
    // Another process may have taken the port between the probe and moto's bind: once more.
    if (attempt >= 2) throw new Error(`moto_server did not start on ${url}: ${output}`);
  }
}

/** Like S3: a pre-signed URL past X-Amz-Date + X-Amz-Expires is refused. */
function expired(query: URLSearchParams, now: number): boolean {
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(query.get('X-Amz-Date') ?? '');
  const expires = Number(query.get('X-Amz-Expires'));
  if (!date || !Number.isFinite(expires)) return false;
  const signedAt = Date.UTC(+date[1], +date[2] - 1, +date[3], +date[4], +date[5], +date[6]);
  return now > signedAt + expires * 1000;
}

// One moto per test file, started at the first store it asks for and stopped when the file's
// process exits: moto takes seconds of Python start-up, and a file of S3 tests used to start
// one per test. Each store still gets a bucket and a front of its own, so that no test sees
// another's objects, requests or faults.
let sharedMoto: Promise<{ url: string; process: ChildProcess }> | undefined;
let buckets = 0;

function motoForThisFile(): Promise<{ url: string; process: ChildProcess }> {
  sharedMoto ??= startMoto().then((moto) => {
    process.once('exit', () => moto.process.kill('SIGTERM'));
    // Nor does it keep the file's process alive once its tests are done.
    moto.process.unref();
    (moto.process.stderr as Socket | null)?.unref();
    return moto;
  });
  return sharedMoto;
}

export async function startObjectStore(t: Teardown, options: { bucket?: string } = {}) {
  const moto = await motoForThisFile();
  const upstream = new URL(moto.url);
  const seen: StoreRequest[] = [];
  const faults = {
    /** The next GET of an object is cut after this many bytes of its body. */
    cutObjectAfterBytes: 0,
    /** The next pre-signed GET waits this long before it is judged (a slow network). */
    delayPresignedMs: 0,
    /** Every CompleteMultipartUpload is answered this much later (a store assembling a large object). */
    delayCompleteMs: 0,
  };
  const sockets = new Set<Socket>();
  const front = createHttpServer(async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://front');
    const record: StoreRequest = {
      method: request.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      authorization: request.headers.authorization ?? null,
      range: request.headers.range ?? null,
      status: 0,
    };
    seen.push(record);
    const presigned = url.searchParams.has('X-Amz-Signature');
    if (presigned && faults.delayPresignedMs > 0) {
      const delay = faults.delayPresignedMs;
      faults.delayPresignedMs = 0;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    if (presigned && expired(url.searchParams, Date.now())) {
      record.status = 403;
      response
        .writeHead(403, { 'content-type': 'application/xml' })
        .end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
      return;
    }
    // A presigned request with an Authorization header too is refused by S3 ("only one auth mechanism").
    if (presigned && request.headers.authorization) {
      record.status = 400;
      response
        .writeHead(400, { 'content-type': 'application/xml' })
        .end('<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>');
      return;
    }
    if (request.method === 'POST' && url.searchParams.has('uploadId') && faults.delayCompleteMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, faults.delayCompleteMs));
    }
    const cut =
      request.method === 'GET' && faults.cutObjectAfterBytes > 0 && !url.search.includes('list-type') ? faults.cutObjectAfterBytes : 0;
    if (cut) faults.cutObjectAfterBytes = 0;
    const forwarded = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        record.status = answer.statusCode ?? 0;
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        if (!cut) return void answer.pipe(response);
        let budget = cut;
        answer.on('data', (chunk: Buffer) => {
          if (budget <= 0) return;
          const part = chunk.subarray(0, budget);
          budget -= part.length;
          response.write(part);
          if (budget <= 0) {
            answer.destroy();
            response.socket?.destroy();
          }
        });
        answer.on('end', () => response.end());
      },
    );
    forwarded.on('error', () => response.destroy());
    request.pipe(forwarded);
  });
  front.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(front.address() as { port: number }).port}`;

  buckets += 1;
  const bucket = options.bucket ?? `sluice-test-${buckets}`;
  const env = {
    AWS_ENDPOINT_URL: url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'sluice-test',
    AWS_SECRET_ACCESS_KEY: 'sluice-test-secret',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  // The test's own view of the bucket goes straight to moto, past the front and its faults.
  const client = new S3Client({
    endpoint: moto.url,
    region: env.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));

  const stop = async () => {
    client.destroy();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => front.close(() => resolve()));
  };
  t.teardown(stop);
  return {
    url,
    bucket,
    /** The variables a server process needs to reach the bucket, as AWS tools read them. */
    env,
    storeUrl: (prefix = 'sluice') => `s3://${bucket}/${prefix}`,
    client,
    seen,
    faults,
    /** Every object key in the bucket, sorted. */
    keys: async (prefix = '') => {
      const keys: string[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
        keys.push(...(page.Contents ?? []).map((object) => object.Key!));
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return keys.sort();
    },
    /** The multipart uploads begun and neither completed nor aborted. */
    multipartUploads: async () =>
      ((await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).map((upload) => upload.Key!),
    stop,
  };
}

export type ObjectStore = Awaited<ReturnType<typeof startObjectStore>>;
