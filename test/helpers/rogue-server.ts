// A scriptable server that speaks the device protocol and misbehaves on purpose: it holds the
// online server key (as an attacker who took over the server would) and can offer any
// manifest, any bytes and any check-in answer. Listens on 127.0.0.1 only.
import { createServer, type IncomingMessage } from 'node:http';
import { createHash, type KeyObject } from 'node:crypto';
import { generateKeyPair } from '../../signing/keys.js';
import { createRoot } from '../../signing/root.js';
import { signDocument, type SignedDocument } from '../../signing/signed.js';

export interface RogueKeys {
  root: KeyObject;
  release: KeyObject;
  server: KeyObject;
}

export function makeTrust(expires = new Date(Date.now() + 365 * 86400_000)) {
  const keys: RogueKeys = {
    root: generateKeyPair().privateKey,
    release: generateKeyPair().privateKey,
    server: generateKeyPair().privateKey,
  };
  const root = createRoot({
    expires,
    roles: { root: { keys: [keys.root] }, release: { keys: [keys.release] }, server: { keys: [keys.server] } },
  });
  return { keys, rootDocument: signDocument(root, [keys.root]) };
}

export interface Script {
  /** The manifest document offered, already signed by whoever the test chose. */
  manifest: SignedDocument<Record<string, unknown>>;
  bytes: Buffer;
  /** Rewrites the check-in answer before it is signed (or replaces the whole document). */
  answer?: (signed: Record<string, unknown>, request: { nonce: string }) => Record<string, unknown>;
  document?: (signedAnswer: SignedDocument<unknown>) => SignedDocument<unknown>;
  signWith?: KeyObject;
}

export async function startRogueServer(keys: RogueKeys, script: Script) {
  const events: { state: string; detail: string | null }[] = [];
  const answers: SignedDocument<unknown>[] = [];
  const body = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString();
  };
  const server = createServer(async (request, response) => {
    const url = request.url ?? '';
    if (request.method === 'POST' && url === '/api/v1/device/checkin') {
      const checkin = JSON.parse(await body(request)) as { nonce: string };
      const now = new Date();
      let signed: Record<string, unknown> = {
        type: 'checkin',
        deviceId: 'emu-0001',
        nonce: checkin.nonce,
        serverTime: now.toISOString(),
        expires: new Date(now.getTime() + 60_000).toISOString(),
        pollAfterSeconds: 1,
        diagnostics: null,
        assignment: {
          id: 'plan-1',
          plan: 'plan-1',
          release: 'release-1',
          manifest: script.manifest,
          artifactUrl: '/api/v1/releases/release-1/artifact',
          window: { start: new Date(now.getTime() - 60_000).toISOString(), end: new Date(now.getTime() + 3600_000).toISOString() },
          installAllowed: true,
          downgrade: false,
        },
      };
      if (script.answer) signed = script.answer(signed, checkin);
      let document: SignedDocument<unknown> = signDocument(signed, [script.signWith ?? keys.server]);
      answers.push(document);
      if (script.document) document = script.document(document);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document));
      return;
    }
    if (request.method === 'POST' && url === '/api/v1/device/events') {
      const event = JSON.parse(await body(request)) as { state: string; detail?: string | null };
      events.push({ state: event.state, detail: event.detail ?? null });
      response.writeHead(204).end();
      return;
    }
    if (request.method === 'GET' && url.endsWith('/artifact')) {
      const range = /bytes=(\d+)-/.exec(request.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      response.writeHead(range ? 206 : 200, { 'content-length': String(script.bytes.length - start) }).end(script.bytes.subarray(start));
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"no"}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    events,
    answers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function releaseManifest(bytes: Buffer, fields: Record<string, unknown> = {}) {
  return {
    type: 'release',
    product: 'emu',
    version: '2.0.0',
    hardware: ['emu-hw-1'],
    artifact: { name: 'emu.img', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
    fixes: [],
    notes: '',
    createdAt: new Date().toISOString(),
    ...fields,
  };
}
