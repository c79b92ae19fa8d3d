// A small server that speaks exactly the device protocol (docs/device-protocol.md) on
// 127.0.0.1:0, signing its answers with the keys of a throw-away root made with signing/.
// Tests script it call by call (STYLE.md, undici): cut a download, be unreachable, serve
// tampered, endless or older releases, replay or expire check-in answers, rotate the root.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, type KeyObject } from 'node:crypto';
import type { Socket } from 'node:net';
import { generateKeyPair } from '../../../signing/keys.js';
import { createRoot } from '../../../signing/root.js';
import { signDocument, type SignedDocument } from '../../../signing/signed.js';

export interface TrustKeys {
  root: KeyObject;
  release: KeyObject;
  server: KeyObject;
}

/** A root (version 1) whose every role has one fresh key. */
export function throwAwayTrust(expires = new Date(Date.now() + 365 * 86400_000)) {
  const keys: TrustKeys = {
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

export function manifestFor(bytes: Buffer, fields: Record<string, unknown> = {}) {
  return {
    type: 'release',
    product: 'emu',
    version: '2.0.0',
    hardware: ['emu-hw-1'],
    artifact: { name: 'emu.img', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
    fixes: [],
    notes: '',
    createdAt: '2026-01-01T00:00:00.000Z',
    ...fields,
  };
}

export interface Offer {
  id: string;
  manifest: SignedDocument<unknown>;
  /** The bytes served for the artifact (may differ from the manifest: mix-and-match). */
  bytes: Buffer;
  window: { start: string; end: string } | null;
  installAllowed: boolean;
  downgrade: boolean;
  /** The artifactUrl the answer names; by default this server's own artifact path. */
  artifactUrl?: string;
}

/** Mutable between calls: the test changes what the next request meets. */
export interface Script {
  deviceId: string;
  pollAfterSeconds: number;
  offer: Offer | null;
  diagnostics: { session: string; collect: string[] } | null;
  /** Every connection is destroyed on arrival: the server is "unreachable". */
  unreachable: boolean;
  /** The next artifact response is cut after this many bytes (then reset to 0). */
  cutArtifactAfterBytes: number;
  /** Extra bytes appended after the artifact without a content-length: endless data. */
  endlessExtraBytes: number;
  /** Send the artifact in 32 KiB pieces every 10 ms, so a test can kill the agent mid-download. */
  slowArtifact: boolean;
  /** Answer Range requests with 200 and the whole file. */
  ignoreRange: boolean;
  /** The status the events endpoint answers (204 normally; 503 to refuse for a while). */
  eventStatus: number;
  /** Rewrites the check-in answer before it is signed. */
  rewrite: ((signed: Record<string, unknown>, request: CheckinRequest) => Record<string, unknown>) | null;
  /** Serve the first signed answer again instead of a fresh one (a replay). */
  replayFirstAnswer: boolean;
  /** Sign check-in answers with this key instead of the server role's. */
  signWith: KeyObject | null;
  /** Newer roots offered at /api/v1/trust/root/N.json, by version. */
  roots: Record<number, SignedDocument<unknown>>;
  diagnosticsStatus: number;
  /** Answer artifact requests with a 302 to this URL (a pre-signed object-store URL). */
  artifactRedirect: string | null;
}

export interface CheckinRequest {
  version: string;
  nonce: string;
  state?: string;
  assignment?: string | null;
}
export interface EventRequest {
  assignment: string | null;
  state: string;
  detail?: string | null;
  progress?: number | null;
  eventId: string;
  at: string;
}

export async function startFakeServer(options: { keys: TrustKeys; now?: () => Date; script?: Partial<Script> }) {
  const now = options.now ?? (() => new Date());
  const script: Script = {
    deviceId: 'emu-0001',
    pollAfterSeconds: 30,
    offer: null,
    diagnostics: null,
    unreachable: false,
    cutArtifactAfterBytes: 0,
    endlessExtraBytes: 0,
    slowArtifact: false,
    ignoreRange: false,
    eventStatus: 204,
    rewrite: null,
    replayFirstAnswer: false,
    signWith: null,
    roots: {},
    diagnosticsStatus: 204,
    artifactRedirect: null,
    ...options.script,
  };
  const seen = {
    checkins: [] as CheckinRequest[],
    /** Every event request, duplicates included, in arrival order. */
    events: [] as EventRequest[],
    /** Events recorded once per eventId, as the real server de-duplicates them. */
    recorded: [] as EventRequest[],
    artifactRequests: [] as { method: string; range: string | null; authorization: string | null }[],
    uploads: [] as { session: string; contentType: string; body: Buffer }[],
    answers: [] as SignedDocument<unknown>[],
  };
  const sockets = new Set<Socket>();

  const readBody = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const json = (response: ServerResponse, status: number, body: unknown) =>
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  function checkinAnswer(request: CheckinRequest): SignedDocument<unknown> {
    const at = now();
    const offer = script.offer;
    let signed: Record<string, unknown> = {
      type: 'checkin',
      deviceId: script.deviceId,
      nonce: request.nonce,
      serverTime: at.toISOString(),
      expires: new Date(at.getTime() + 60_000).toISOString(),
      pollAfterSeconds: script.pollAfterSeconds,
      assignment: offer && {
        id: offer.id,
        plan: `plan-${offer.id}`,
        release: `release-${offer.id}`,
        manifest: offer.manifest,
        artifactUrl: offer.artifactUrl ?? `/api/v1/releases/release-${offer.id}/artifact`,
        window: offer.window,
        installAllowed: offer.installAllowed,
        downgrade: offer.downgrade,
      },
      diagnostics: script.diagnostics,
    };
    if (script.rewrite) signed = script.rewrite(signed, request);
    return signDocument(signed, [script.signWith ?? options.keys.server]);
  }

  function serveArtifact(request: IncomingMessage, response: ServerResponse) {
    const bytes = script.offer?.bytes;
    seen.artifactRequests.push({
      method: request.method!,
      range: request.headers.range ?? null,
      authorization: request.headers.authorization ?? null,
    });
    if (!bytes) return json(response, 403, { error: { code: 'not_assigned', message: 'no' } });
    if (script.artifactRedirect) return void response.writeHead(302, { location: script.artifactRedirect }).end();
    const etag = `"${createHash('sha256').update(bytes).digest('hex')}"`;
    const range = script.ignoreRange ? null : /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (start > bytes.length) return response.writeHead(416).end();
    const body = bytes.subarray(start);
    if (script.endlessExtraBytes > 0) {
      // No content-length: the client only learns it got too much by counting.
      response.writeHead(range ? 206 : 200, { etag });
      response.write(body);
      response.end(Buffer.alloc(script.endlessExtraBytes, 0x41));
      return;
    }
    response.writeHead(range ? 206 : 200, {
      etag,
      'accept-ranges': 'bytes',
      'content-length': String(body.length),
      ...(range ? { 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}),
    });
    if (request.method === 'HEAD') return response.end();
    const cut = script.cutArtifactAfterBytes;
    if (cut > 0 && cut < body.length) {
      script.cutArtifactAfterBytes = 0;
      response.write(body.subarray(0, cut), () => setTimeout(() => request.socket.destroy(), 20));
      return;
    }
    if (script.slowArtifact) {
      let offset = 0;
      const timer = setInterval(() => {
        if (response.destroyed) return clearInterval(timer);
        response.write(body.subarray(offset, offset + 32 * 1024));
        offset += 32 * 1024;
        if (offset >= body.length) {
          clearInterval(timer);
          response.end();
        }
      }, 10);
      return;
    }
    response.end(body);
  }

  const server = createServer(async (request, response) => {
    if (script.unreachable) return void request.socket.destroy();
    const url = new URL(request.url ?? '/', 'http://device.invalid');
    const path = url.pathname;
    if (request.headers.authorization !== 'Bearer device-token' && !path.startsWith('/api/v1/trust/')) {
      return json(response, 401, { error: { code: 'unauthorized', message: 'bad token' } });
    }
    if (request.method === 'POST' && path === '/api/v1/device/checkin') {
      const body = JSON.parse((await readBody(request)).toString()) as CheckinRequest;
      seen.checkins.push(body);
      let document = checkinAnswer(body);
      seen.answers.push(document);
      if (script.replayFirstAnswer) document = seen.answers[0];
      return json(response, 200, document);
    }
    if (request.method === 'POST' && path === '/api/v1/device/events') {
      const event = JSON.parse((await readBody(request)).toString()) as EventRequest;
      seen.events.push(event);
      if (script.eventStatus >= 300) return json(response, script.eventStatus, { error: { code: 'unavailable', message: 'later' } });
      if (!seen.recorded.some((recorded) => recorded.eventId === event.eventId)) seen.recorded.push(event);
      return void response.writeHead(204).end();
    }
    const root = /^\/api\/v1\/trust\/root\/(\d+)\.json$/.exec(path);
    if (request.method === 'GET' && root) {
      const document = script.roots[Number(root[1])];
      return document ? json(response, 200, document) : json(response, 404, { error: { code: 'not_found', message: 'no such root' } });
    }
    if ((request.method === 'GET' || request.method === 'HEAD') && /^\/api\/v1\/releases\/[^/]+\/artifact$/.test(path)) {
      return serveArtifact(request, response);
    }
    const diagnostics = /^\/api\/v1\/device\/diagnostics\/([^/]+)$/.exec(path);
    if (request.method === 'POST' && diagnostics) {
      seen.uploads.push({ session: diagnostics[1], contentType: request.headers['content-type'] ?? '', body: await readBody(request) });
      return script.diagnosticsStatus >= 300
        ? json(response, script.diagnosticsStatus, { error: { code: 'consent_required', message: 'no consent' } })
        : void response.writeHead(204).end();
    }
    json(response, 404, { error: { code: 'not_found', message: path } });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    script,
    seen,
    /** The states recorded once each, in order. */
    states: () => seen.recorded.map((event) => event.state),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export type FakeServer = Awaited<ReturnType<typeof startFakeServer>>;
