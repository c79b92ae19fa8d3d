// `sluice release publish ARTIFACT --manifest MANIFEST --server URL --token T`
// Streams the artifact (never whole in memory) as multipart: manifest part first, then the
// artifact, as the server requires; shows progress on stderr; turns error codes into one line.
import { parseOptions } from './options.js';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { progressReporter } from './progress.js';

export const options = {
  manifest: { type: 'string', value: 'MANIFEST', required: true, description: 'the signed manifest made by `sluice release sign`' },
  server: { type: 'string', value: 'URL', required: true, environment: 'SLUICE_SERVER', description: "the server's base URL" },
  token: {
    type: 'string',
    value: 'T',
    required: true,
    environment: 'SLUICE_TOKEN',
    description: 'a token of a user with the release role',
  },
  'chunk-index': {
    type: 'string',
    value: 'FILE',
    shownDefault: 'MANIFEST.chunks',
    description: 'the chunk index `sluice release sign` wrote, uploaded after the artifact when the manifest names one',
  },
  'chunk-pack': {
    type: 'string',
    value: 'FILE',
    shownDefault: 'MANIFEST.pack',
    description: 'the chunk pack `sluice release sign` wrote, uploaded before the chunk index when the manifest names one',
  },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(options, argv, { positionals: true });
  const artifactPath = positionals[0];
  if (!artifactPath) throw new Error('name the ARTIFACT file to publish');
  if (!values.manifest) throw new Error('--manifest is required (made by `sluice release sign`)');
  if (!values.server) throw new Error('--server URL is required (or SLUICE_SERVER)');
  if (!values.token) throw new Error('--token is required (or SLUICE_TOKEN): a token of a user with the release role');
  const text = await publishRelease({
    artifactPath,
    manifestPath: values.manifest,
    chunkIndexPath: values['chunk-index'],
    chunkPackPath: values['chunk-pack'],
    server: values.server,
    token: values.token,
    progress: progressReporter('upload', statSync(artifactPath).size),
  });
  process.stdout.write(`${text}\n`);
  return 0;
}

/**
 * Streams one release to the server; resolves to the 201 body, throws a one-line reason.
 * Exported so that the benchmark times the same upload without the CLI's start-up.
 */
export async function publishRelease(options: {
  artifactPath: string;
  manifestPath: string;
  chunkIndexPath?: string;
  chunkPackPath?: string;
  server: string;
  token: string;
  progress?: { advance(bytes: number): void; done(): void };
}): Promise<string> {
  const { artifactPath, server, token } = options;
  const progress = options.progress ?? { advance() {}, done() {} };
  const manifest = readFileSync(options.manifestPath);
  // Looked for before the upload: a release published without its index would update by full downloads only.
  const signs = signedDeltaFiles(manifest);
  const chunkIndexPath = signs.chunkIndex ? (options.chunkIndexPath ?? `${options.manifestPath}.chunks`) : null;
  const chunkPackPath = signs.chunkPack ? (options.chunkPackPath ?? `${options.manifestPath}.pack`) : null;
  for (const [path, what, option] of [
    [chunkIndexPath, 'chunk index', '--chunk-index'],
    [chunkPackPath, 'chunk pack', '--chunk-pack'],
  ] as const) {
    if (path && !existsSync(path))
      throw new Error(`the manifest names a ${what}, and ${path} is missing: pass ${option} FILE (written by \`sluice release sign\`)`);
  }
  const size = statSync(artifactPath).size;

  const boundary = `sluice-${randomBytes(16).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="manifest"; filename="manifest.json"\r\nContent-Type: application/json\r\n\r\n` +
      `${manifest.toString('utf8')}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="artifact"; filename="${basename(artifactPath).replace(/"/g, '_')}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const counted = createReadStream(artifactPath, { highWaterMark: 1024 * 1024 }).pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        progress.advance(chunk.length);
        callback(null, chunk);
      },
    }),
  );
  const body = Readable.from(
    (async function* () {
      yield head;
      for await (const chunk of counted) yield chunk as Buffer;
      yield tail;
    })(),
  );

  // Connections of its own, closed at the end: a streamed body cannot be sent again, so a kept-alive
  // connection the server has just closed (it keeps idle ones 5 s) must not be the one it goes on.
  // A caller whose event loop was busy longer than that (the bench, signing in between) met exactly this.
  const dispatcher = new Agent();
  try {
    const url = new URL('/api/v1/releases', server);
    const response = await request(url, {
      dispatcher,
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + size + tail.length),
      },
      body,
      headersTimeout: 0,
      bodyTimeout: 0,
    }).catch((error: Error & { code?: string }) => {
      progress.done();
      throw new Error(`cannot reach ${server}: ${error.code ?? error.message}`);
    });
    progress.done();
    const text = await response.body.text();
    if (response.statusCode !== 201) {
      let reason = text;
      try {
        const parsed = JSON.parse(text) as { error?: { code: string; message: string } };
        if (parsed.error) reason = `${parsed.error.code}: ${parsed.error.message}`;
      } catch {
        /* not JSON: print as is */
      }
      throw new Error(`refused (HTTP ${response.statusCode}) ${reason}`);
    }
    const release = (JSON.parse(text) as { id: string }).id;
    // The pack first: the server serves the index (and so the delta) only once the pack it names is stored.
    if (chunkPackPath) await uploadDeltaFile(dispatcher, server, token, release, 'chunk-pack', chunkPackPath);
    if (chunkIndexPath) await uploadDeltaFile(dispatcher, server, token, release, 'chunk-index', chunkIndexPath);
    return text;
  } finally {
    await dispatcher.close();
  }
}

/** Which of the files `release sign` wrote are to be uploaded: a pack that is the artifact itself is already sent. */
function signedDeltaFiles(manifest: Buffer): { chunkIndex: boolean; chunkPack: boolean } {
  try {
    const signed = (
      JSON.parse(manifest.toString('utf8')) as {
        signed?: { chunkIndex?: unknown; chunkPack?: { sha256?: unknown }; artifact?: { sha256?: unknown } };
      }
    ).signed;
    const packIsArtifact = signed?.chunkPack?.sha256 !== undefined && signed.chunkPack.sha256 === signed.artifact?.sha256;
    return { chunkIndex: Boolean(signed?.chunkIndex), chunkPack: Boolean(signed?.chunkPack) && !packIsArtifact };
  } catch {
    return { chunkIndex: false, chunkPack: false }; // the server says what is wrong with it
  }
}

/** PUT /api/v1/releases/:id/chunk-index or chunk-pack (docs/delta-updates.md), streamed from the file. */
async function uploadDeltaFile(
  dispatcher: Dispatcher,
  server: string,
  token: string,
  release: string,
  route: 'chunk-index' | 'chunk-pack',
  path: string,
) {
  const what = route.replace('-', ' ');
  const response = await request(new URL(`/api/v1/releases/${encodeURIComponent(release)}/${route}`, server), {
    dispatcher,
    method: 'PUT',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/octet-stream',
      'content-length': String(statSync(path).size),
    },
    body: createReadStream(path, { highWaterMark: 1024 * 1024 }),
    headersTimeout: 0,
    bodyTimeout: 0,
  }).catch((error: Error & { code?: string }) => {
    throw new Error(`published, but the ${what} did not reach ${server}: ${error.code ?? error.message}; run the publish again`);
  });
  const text = await response.body.text();
  if (response.statusCode !== 204) throw new Error(`published, but the ${what} was refused (HTTP ${response.statusCode}) ${text}`);
}
