// Another origin on loopback, as an object store serving pre-signed URLs would be: it serves
// one artifact (with Range) at any path, or redirects, and records the headers of every
// request, so a test can tell whether the device token ever reached it.
import { createServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export interface StoreRequest {
  path: string;
  authorization: string | null;
  range: string | null;
}

export async function startObjectStore(bytes: Buffer) {
  const seen: StoreRequest[] = [];
  const script = { redirect: null as string | null };
  const sockets = new Set<Socket>();
  const server = createServer((request: IncomingMessage, response) => {
    seen.push({ path: request.url ?? '', authorization: request.headers.authorization ?? null, range: request.headers.range ?? null });
    if (script.redirect) return void response.writeHead(307, { location: script.redirect }).end();
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    response
      .writeHead(range ? 206 : 200, {
        'content-length': String(bytes.length - start),
        ...(range ? { 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}),
      })
      .end(bytes.subarray(start));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    /** A URL on this origin with a query string, the shape of a pre-signed one. */
    presigned: (name: string) => `${url}/bucket/${name}?X-Amz-Signature=${'ab'.repeat(32)}&X-Amz-Expires=300`,
    seen,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
