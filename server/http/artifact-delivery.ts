// The one function through which artifact bytes leave the server (DESIGN.md, "One machine
// first, many later"), for the device API and hawkBit DDI alike, once the route has
// authorized the request: it streams the bytes itself (from the disk or the bucket), hands the
// transfer to nginx through X-Accel-Redirect, or redirects the client to a pre-signed URL of
// the object store that expires soon. The redirect carries no token: the URL's signature is
// the authorization, for this object, for GET, until it expires; a client that comes back
// after that gets a fresh one here.
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SluiceContext } from '../context.js';
import type { ServerOptions } from '../config.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { parseRange } from './ranges.js';
import { sendFileRange } from './file-range-sender.js';

export interface DeliverableArtifact {
  sha256: string;
  size: number;
  /** File name offered to the client. */
  name: string;
}

/** Refuses, at start-up, a delivery mode the artifact store cannot serve. */
export function checkDeliveryFits(delivery: ServerOptions['artifactDelivery'], store: ArtifactStore): void {
  if (delivery.mode === 'redirect' && store.kind !== 's3') {
    throw new Error(
      '--artifact-delivery redirect hands out pre-signed URLs, which need an object store: add --artifact-store s3://BUCKET/PREFIX',
    );
  }
  if (delivery.mode === 'x-accel-redirect' && store.kind !== 'filesystem') {
    throw new Error(
      `--x-accel-prefix hands files to nginx, and the artifacts are in ${store.location}: use --artifact-delivery redirect (or stream)`,
    );
  }
}

export async function sendArtifact(context: SluiceContext, request: FastifyRequest, reply: FastifyReply, artifact: DeliverableArtifact) {
  const etag = `"${artifact.sha256}"`;
  const delivery = context.options.artifactDelivery;
  reply.header('ETag', etag);
  reply.header('Accept-Ranges', 'bytes');
  reply.header('Content-Type', 'application/octet-stream');
  reply.header('Content-Disposition', `attachment; filename="${artifact.name.replace(/["\\\r\n]/g, '_')}"`);
  reply.header('Cache-Control', 'private, max-age=0, must-revalidate');

  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) {
    return reply.status(304).send();
  }
  // If-Range with a different validator means the client's partial copy is stale: send it all.
  const ifRange = request.headers['if-range'];
  const rangeHeader = ifRange && ifRange !== etag ? undefined : request.headers.range;
  const range = parseRange(rangeHeader, artifact.size);
  // What a hand-off asks the other party to send, for sluice_artifact_delivered_bytes_total.
  const handedOff = request.method === 'GET' ? (range.kind === 'partial' ? range.end - range.start + 1 : artifact.size) : 0;

  if (delivery.mode === 'x-accel-redirect') {
    // nginx serves the bytes (with sendfile, Range and If-None-Match) from an internal location.
    const handOff = await context.artifacts.handOff(artifact.sha256, { kind: 'internal-redirect' });
    if (handOff.kind === 'internal-redirect') reply.header('X-Accel-Redirect', `${delivery.internalPrefix}/${handOff.path}`);
    context.metrics?.artifactBytes(delivery.mode, handedOff);
    return reply.status(200).send();
  }
  // A pre-signed URL is for GET only (the method is signed): HEAD is answered here, below.
  if (delivery.mode === 'redirect' && request.method === 'GET') {
    const handOff = await context.artifacts.handOff(artifact.sha256, {
      kind: 'presigned-url',
      expiresSeconds: delivery.presignSeconds,
      fileName: artifact.name,
    });
    if (handOff.kind === 'presigned-url') {
      // 307 keeps the method; the client sends its Range (and If-Range) to the store itself.
      // The URL is the client's for a few minutes: no cache may keep it for someone else.
      for (const header of ['ETag', 'Accept-Ranges', 'Content-Type', 'Content-Disposition']) reply.removeHeader(header);
      context.metrics?.artifactBytes(delivery.mode, handedOff);
      return reply.status(307).header('Cache-Control', 'no-store').header('Location', handOff.url).send();
    }
  }

  const start = range.kind === 'partial' ? range.start : 0;
  const end = range.kind === 'partial' ? range.end : artifact.size - 1;
  const length = artifact.size === 0 ? 0 : end - start + 1;
  reply.header('Content-Length', String(length));
  if (range.kind === 'partial') {
    reply.status(206).header('Content-Range', `bytes ${start}-${end}/${artifact.size}`);
  } else {
    reply.status(200);
  }
  if (request.method === 'HEAD' || length === 0) return reply.send();
  // Opened before the reply is taken over, so a missing object still gets fastify's error answer.
  const source = await context.artifacts.open(artifact.sha256, start);
  // The bytes go straight to the socket (see file-range-sender.ts); fastify still logs the
  // response when it finishes. The headers set above and by hooks (helmet) are sent as they are.
  reply.hijack();
  reply.raw.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
  sendFileRange(source, reply.raw, start, end)
    .then(() => context.metrics?.artifactBytes('stream', length))
    .catch((error: Error) => {
      // Headers are gone already: the only honest signal left is a cut connection.
      request.log.info({ err: error }, 'artifact transfer interrupted');
      reply.raw.destroy();
    })
    .finally(() => source.close());
  return reply;
}
