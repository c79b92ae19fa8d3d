// Real peers on 127.0.0.1 for the notification tests: an SMTP server (smtp-server) whose
// mails are parsed (mailparser), and a webhook receiver that checks each signature and
// counts deliveries by their X-Sluice-Delivery id.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

interface Teardown {
  teardown: (fn: () => unknown) => void;
}

export async function startMailbox(t: Teardown) {
  const mails: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    // No reverse DNS of 127.0.0.1 per connection: nothing to learn, and a slow resolver stalls every mail.
    disableReverseLookup: true,
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => {
        mails.push(mail);
        callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const to = (address: string) =>
    mails.filter((mail) => [mail.to].flat().some((entry) => entry?.value.some((value) => value.address === address)));
  return { url: `smtp://127.0.0.1:${port}`, mails, to };
}

export interface Received {
  event: string;
  delivery: string;
  body: any;
  signatureValid: boolean;
}

/**
 * `answer` decides each reply: a status, or 'hold' to never answer (a peer that hangs).
 * Deliveries are counted when answered 2xx.
 */
export async function startReceiver(
  t: Teardown,
  secret: string,
  answer: (request: IncomingMessage, count: number) => number | 'hold' = () => 200,
) {
  const received: Received[] = [];
  const accepted = new Map<string, number>();
  const held: ServerResponse[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
      const given = Buffer.from(String(request.headers['x-sluice-signature'] ?? ''));
      const entry = {
        event: String(request.headers['x-sluice-event']),
        delivery: String(request.headers['x-sluice-delivery']),
        body: JSON.parse(raw.toString()),
        signatureValid: given.length === expected.length && timingSafeEqual(given, expected),
      };
      received.push(entry);
      const status = answer(request, received.length);
      if (status === 'hold') {
        held.push(response);
        return;
      }
      if (status >= 200 && status < 300 && entry.signatureValid) accepted.set(entry.delivery, (accepted.get(entry.delivery) ?? 0) + 1);
      response.writeHead(status, status >= 300 && status < 400 ? { location: 'http://127.0.0.1:1/elsewhere' } : {}).end();
    });
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  t.teardown(() => {
    for (const response of held) response.destroy();
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${port}/hook`, received, accepted };
}
