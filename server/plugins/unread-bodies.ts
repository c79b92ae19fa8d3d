// A request answered before its body was read: 401 from authentication, 409 `version_exists`
// once the manifest part is read, 413 at a limit. Left alone, the rest of the body stays unread
// on the connection, and a client that sends its next request on it (undici, Node's fetch)
// waits until its own timeout: Node drains a body that nobody began to read (without bound),
// but one a handler began to read, as a multipart upload is, stays stuck.
// So the rest is read and dropped, and the connection serves the next request. Closing instead
// is no answer for a body the client is still sending: the close resets the connection under
// the client's writes, and a client such as `sluice release publish` then sees EPIPE instead of
// the refusal (what nginx's lingering close exists for). Only a body of unknown length, or one
// declared larger than any upload the server accepts, is not received: `Connection: close`.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export default fp(async function unreadBodiesPlugin(app: FastifyInstance) {
  // The largest body read only to be dropped: the largest the server would have accepted.
  const drainLimitBytes = Math.max(app.sluice.options.maxArtifactBytes, 1024 * 1024);
  app.addHook('onSend', async (request, reply, payload) => {
    const incoming = request.raw;
    if (incoming.complete || incoming.destroyed) return payload;
    if (Number(incoming.headers['content-length'] ?? NaN) <= drainLimitBytes) discard(request);
    else reply.header('connection', 'close');
    return payload;
  });
});

/** Detaches whoever was reading the body (busboy) and lets the rest flow into nothing. */
function discard(request: FastifyRequest): void {
  request.raw.unpipe();
  request.raw.resume();
}
