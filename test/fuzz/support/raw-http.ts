// Raw HTTP/1.1 over node:net to a listening test server on 127.0.0.1, for what app.inject
// cannot send: headers over the limit, broken framing, bodies cut off by a closed socket.
import { connect } from 'node:net';

export interface RawAnswer {
  /** null when the server closed the connection without an answer. */
  status: number | null;
  headers: Record<string, string>;
  body: string;
}

/** Sends bytes, half-closes (unless `keepOpen`), and reads until the server closes (bounded). */
export function rawRequest(
  port: number,
  bytes: string | Buffer,
  options: { keepOpen?: boolean; timeoutMs?: number } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      // One answer is enough: a keep-alive server would otherwise hold the socket open.
      if (complete(Buffer.concat(chunks))) socket.destroy();
    });
    socket.on('error', () => {
      /* a reset is an answer too: judged by what arrived */
    });
    socket.on('close', () => resolve(parse(Buffer.concat(chunks))));
    socket.setTimeout(options.timeoutMs ?? 5000, () => socket.destroy());
    if (options.keepOpen) socket.write(bytes, () => setImmediate(() => socket.destroy()));
    else socket.end(bytes);
  });
}

function complete(data: Buffer): boolean {
  if (/^HTTP\/1\.[01] 1\d\d/.test(data.toString('latin1', 0, 12))) return false;
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(data.subarray(0, end).toString('latin1'));
  return length !== null && data.length >= end + 4 + Number(length[1]);
}

function parse(data: Buffer): RawAnswer {
  // Interim answers (100 Continue) come before the real one.
  const text = data.toString('utf8').replace(/^(HTTP\/1\.[01] 1\d\d[^\r]*\r\n(?:[^\r]+\r\n)*\r\n)+/, '');
  const end = text.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (!status || end < 0) return { status: null, headers: {}, body: text };
  const headers: Record<string, string> = {};
  for (const line of text.slice(0, end).split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  // Only the first answer: a pipelined rest of the request may draw a second one.
  const body = Buffer.from(text.slice(end + 4));
  const length = headers['content-length'] === undefined ? body.length : Number(headers['content-length']);
  return { status: Number(status[1]), headers, body: body.subarray(0, length).toString('utf8') };
}
