// A TCP proxy on 127.0.0.1 between an agent and a server that can cut a response after N
// bytes or drop requests, and records every request line with its Range header.
import { createServer, connect, type Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  range: string | null;
}

export async function startFaultProxy(upstreamUrl: string) {
  const upstream = new URL(upstreamUrl);
  const seen: SeenRequest[] = [];
  const faults = { cutArtifactAfterBytes: 0, dropEvents: false };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    const target = connect(Number(upstream.port), upstream.hostname);
    sockets.add(target);
    let cutBudget = 0;
    const kill = () => {
      client.destroy();
      target.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      for (const match of chunk.toString('latin1').matchAll(/(GET|POST|HEAD) (\S+) HTTP\/1\.1\r\n([\s\S]*?)\r\n\r\n/g)) {
        const range = /^range: *(.+)$/im.exec(match[3])?.[1]?.trim() ?? null;
        seen.push({ method: match[1], path: match[2], range });
        if (faults.dropEvents && match[2] === '/api/v1/device/events') return kill();
        if (faults.cutArtifactAfterBytes > 0 && match[1] === 'GET' && match[2].endsWith('/artifact')) {
          cutBudget = faults.cutArtifactAfterBytes;
          faults.cutArtifactAfterBytes = 0;
        }
      }
      target.write(chunk);
    });
    target.on('data', (chunk: Buffer) => {
      if (cutBudget > 0) {
        if (chunk.length >= cutBudget) {
          client.write(chunk.subarray(0, cutBudget), kill);
          cutBudget = 0;
          return;
        }
        cutBudget -= chunk.length;
      }
      client.write(chunk);
    });
    for (const socket of [client, target]) {
      socket.on('error', kill);
      socket.on('close', () => {
        kill();
        sockets.delete(socket);
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    seen,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
