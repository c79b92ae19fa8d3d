// The one function through which artifact bytes leave the server (DESIGN.md, "One machine
// first, many later"): it streams the file itself, or hands the transfer to nginx through
// X-Accel-Redirect after sluice has authorized it; a pre-signed URL redirect fits here later.
import { open } from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SluiceContext } from '../context.js';
import { parseRange } from './ranges.js';
import { sendFileRange } from './file-range-sender.js';

export interface DeliverableArtifact {
  sha256: string;
  size: number;
  /** File name offered to the client. */
  name: string;
}

export async function sendArtifact(context: SluiceContext, request: FastifyRequest, reply: FastifyReply, artifact: DeliverableArtifact) {
  const etag = `"${artifact.sha256}"`;
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

  if (context.options.artifactDelivery.mode === 'x-accel-redirect') {
    // nginx serves the bytes (with sendfile, Range and If-None-Match) from an internal location.
    reply.header('X-Accel-Redirect', `${context.options.artifactDelivery.internalPrefix}/${context.artifacts.relativePathOf(artifact.sha256)}`);
    return reply.status(200).send();
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
  // Opened before the reply is taken over, so a missing file still gets fastify's error answer.
  const file = await open(context.artifacts.pathOf(artifact.sha256), 'r');
  // The bytes go straight to the socket (see file-range-sender.ts); fastify still logs the
  // response when it finishes. The headers set above and by hooks (helmet) are sent as they are.
  reply.hijack();
  reply.raw.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
  sendFileRange(file, reply.raw, start, end)
    .catch((error: Error) => {
      // Headers are gone already: the only honest signal left is a cut connection.
      request.log.info({ err: error }, 'artifact transfer interrupted');
      reply.raw.destroy();
    })
    .finally(() => file.close());
  return reply;
}
