// The network limits of `sluice server` (docs/architecture.md, "The network"), against a real
// server process on 127.0.0.1 with its timeouts lowered by flags: clients trickling their
// headers are cut off at the headers timeout while /healthz answers, a stalled request at the
// request timeout, an idle keep-alive connection at its timeout, connections over the cap as
// they arrive; a slow upload that keeps moving is not cut off.
import t, { type Test } from 'tap';
import { connect } from 'node:net';
import { get } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { startLiveServer, apiClient, adminTokenOf, releaseUpload } from '../helpers/live-server.js';
import { runSluice } from '../helpers/processes.js';
import { buildApp } from '../../server/app.js';
import { networkLimit, networkLimitOptions } from '../../server/config.js';
import { maxConnectionsFor, openFileLimit } from '../../server/http/network-limits.js';

async function server(t: Test, flags: string[]) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-network-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const live = await startLiveServer(t, dataDir, { extra: flags });
  const { hostname, port } = new URL(live.url);
  return { ...live, dataDir, host: hostname, port: Number(port) };
}

/** A raw connection that records what the server sent and when it closed the connection. */
function rawConnection(port: number) {
  const socket = connect(port, '127.0.0.1');
  const record = {
    socket,
    opened: Date.now(),
    received: '',
    answeredAfterMs: undefined as number | undefined,
    closedAfterMs: undefined as number | undefined,
  };
  socket.on('data', (chunk: Buffer) => {
    record.answeredAfterMs ??= Date.now() - record.opened;
    record.received += chunk.toString('latin1');
  });
  socket.on('error', () => {
    /* a reset is one way of being closed */
  });
  socket.on('close', () => {
    record.closedAfterMs = Date.now() - record.opened;
  });
  return record;
}

/** GET /healthz on a connection of its own; refused or silent for 5 s counts as starved. */
function healthz(port: number): Promise<number | string> {
  return new Promise((resolve) => {
    const call = get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 5000 }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    call.on('timeout', () => {
      call.destroy();
      resolve('no answer within 5 s');
    });
    call.on('error', (error) => resolve(error.message));
  });
}

async function until(condition: () => boolean, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition() && Date.now() < deadline) await sleep(50);
}

t.test('600 clients trickling their headers are cut off at the headers timeout, and /healthz answers meanwhile', async (t) => {
  const headersTimeoutSeconds = 2;
  const live = await server(t, ['--headers-timeout', String(headersTimeoutSeconds), '--request-timeout', '30']);
  const header = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trickle: ${'a'.repeat(4096)}`;
  const tricklers = Array.from({ length: 600 }, () => {
    const connection = rawConnection(live.port);
    let sent = 0;
    // One byte every 500 ms: never idle, never done.
    const timer = setInterval(() => {
      if (!connection.socket.destroyed) connection.socket.write(header[sent++ % header.length]);
    }, 500);
    connection.socket.on('close', () => clearInterval(timer));
    t.teardown(() => {
      clearInterval(timer);
      connection.socket.destroy();
    });
    return connection;
  });
  const answers: (number | string)[] = [];
  const allClosed = () => tricklers.every((trickler) => trickler.closedAfterMs !== undefined);
  const deadline = Date.now() + (headersTimeoutSeconds + 15) * 1000;
  while (!allClosed() && Date.now() < deadline) {
    answers.push(await healthz(live.port));
    await sleep(250);
  }
  t.ok(answers.length >= 3, `/healthz was asked ${answers.length} times while the clients trickled`);
  t.same([...new Set(answers)], [200], 'every /healthz was answered 200 while 600 clients trickled');
  t.ok(allClosed(), 'the server closed every trickling connection');
  const closedAfter = tricklers.map((trickler) => trickler.closedAfterMs ?? Infinity);
  // Node checks the deadline on a timer (every 500 ms here); the rest is a loaded machine's slack.
  t.ok(
    Math.min(...closedAfter) >= headersTimeoutSeconds * 1000 - 100,
    `none was cut before the headers timeout (first after ${Math.min(...closedAfter)} ms)`,
  );
  t.ok(
    Math.max(...closedAfter) <= (headersTimeoutSeconds + 8) * 1000,
    `all were cut soon after it (last after ${Math.max(...closedAfter)} ms)`,
  );
  const refusals = new Set(tricklers.map((trickler) => trickler.received.split('\r\n')[0]));
  t.same([...refusals], ['HTTP/1.1 408 Request Timeout'], 'each was told 408 before the close');
  t.match(tricklers[0].received, /"code":"request_timeout"/, "in the API's error shape");
});

t.test(
  'an upload that keeps moving outlives the timeouts; a request that stalls, an idle connection and a silent one are closed',
  async (t) => {
    const live = await server(t, ['--headers-timeout', '1', '--request-timeout', '1.5', '--keep-alive-timeout', '1']);
    const api = apiClient(live.url);
    const admin = adminTokenOf(live.dataDir);
    await api.must('POST', '/api/v1/products', admin, { id: 'emu', name: 'Energy management unit' });
    const { token } = await api.must('POST', '/api/v1/users', admin, { username: 'rita', role: 'release' });

    // About 4.5 s in all, three times the request timeout, with a piece every 300 ms.
    const { payload, contentType } = releaseUpload(live.dataDir, '1.0.0', Buffer.alloc(60_000, 3));
    const pieces = 15;
    async function* slowly() {
      for (let index = 0; index < pieces; index += 1) {
        yield payload.subarray(Math.floor((index * payload.length) / pieces), Math.floor(((index + 1) * payload.length) / pieces));
        await sleep(300);
      }
    }
    const started = Date.now();
    const response = await request(`${live.url}/api/v1/releases`, {
      method: 'POST',
      body: Readable.from(slowly()),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType, 'content-length': String(payload.length) },
    });
    const reply = (await response.body.json()) as { version?: string };
    t.equal(response.statusCode, 201, 'the slow upload is published');
    t.equal(reply.version, '1.0.0');
    t.ok(Date.now() - started > 3000, 'and it took longer than the request timeout');

    const stalled = rawConnection(live.port);
    stalled.socket.write(
      `POST /api/v1/releases HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${contentType}\r\nContent-Length: ${payload.length}\r\n\r\n`,
    );
    stalled.socket.write(payload.subarray(0, 1000));
    const idle = rawConnection(live.port);
    idle.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const silent = rawConnection(live.port);
    t.teardown(() => {
      for (const connection of [stalled, idle, silent]) connection.socket.destroy();
    });
    await until(() => [stalled, idle, silent].every((connection) => connection.closedAfterMs !== undefined), 12_000);
    t.ok(
      stalled.closedAfterMs !== undefined && stalled.closedAfterMs >= 1400,
      `the stalled upload was closed after the request timeout (${stalled.closedAfterMs} ms)`,
    );
    t.match(idle.received, /^HTTP\/1\.1 200 /, 'the idle connection had its answer');
    const idleFor = (idle.closedAfterMs ?? 0) - (idle.answeredAfterMs ?? Infinity);
    t.ok(idleFor >= 900, `then was closed after the keep-alive timeout (idle for ${idleFor} ms)`);
    t.ok(
      silent.closedAfterMs !== undefined && silent.closedAfterMs >= 900,
      `a connection that never sends a byte is closed too (${silent.closedAfterMs} ms)`,
    );
    t.equal(await healthz(live.port), 200);
  },
);

t.test('connections over --max-connections are closed as they arrive; the server serves again when they go', async (t) => {
  const live = await server(t, ['--max-connections', '20', '--headers-timeout', '60', '--request-timeout', '60']);
  const connections = Array.from({ length: 30 }, () => rawConnection(live.port));
  t.teardown(() => {
    for (const connection of connections) connection.socket.destroy();
  });
  const closed = () => connections.filter((connection) => connection.closedAfterMs !== undefined).length;
  await until(() => closed() >= 10, 10_000);
  await sleep(500);
  t.equal(closed(), 10, 'the ten over the cap were closed, the twenty under it stay open');
  t.not(await healthz(live.port), 200, 'at the cap, even /healthz is turned away');
  for (const connection of connections) connection.socket.destroy();
  let answer: number | string = '';
  const deadline = Date.now() + 10_000;
  while (answer !== 200 && Date.now() < deadline) answer = await healthz(live.port);
  t.equal(answer, 200, 'once they are gone, the server answers');
});

t.test('the limits are refused outside their range, naming the flag', async (t) => {
  for (const [name, value] of [
    ['headersTimeoutSeconds', '0'],
    ['requestTimeoutSeconds', 'soon'],
    ['keepAliveTimeoutSeconds', '-1'],
    ['maxConnections', '2.5'],
    ['maxConnections', ''],
    ['headersTimeoutSeconds', 7200],
  ] as const) {
    t.throws(
      () => networkLimit(name, value),
      { message: new RegExp(`^${networkLimitOptions[name].flag} must be .* not "${value}"$`) },
      `${name} ${JSON.stringify(value)}`,
    );
  }
  t.equal(networkLimit('requestTimeoutSeconds', '0.5'), 0.5);
  t.equal(networkLimit('maxConnections', '600'), 600);
  const dataDir = join(mkdtempSync(join(tmpdir(), 'sluice-network-')), 'data');
  t.teardown(() => rmSync(join(dataDir, '..'), { recursive: true, force: true }));
  // The CLI and buildApp refuse before anything is created.
  const result = await runSluice(['server', '--data-dir', dataDir, '--port', '0', '--keep-alive-timeout=-1']);
  t.equal(result.code, 1);
  t.match(result.stderr, 'sluice server: --keep-alive-timeout must be a number of seconds from 0.1 to 3600, not "-1"');
  await t.rejects(buildApp({ dataDir, maxConnections: 0 }), /--max-connections must be/);
  t.notOk(existsSync(dataDir), 'no data directory was made');
});

t.test('the default cap leaves room in the open-file limit', async (t) => {
  t.equal(maxConnectionsFor(1024), 448, '(1024 − 128) / 2');
  t.equal(maxConnectionsFor(1_048_576), 10_000, 'at most 10 000');
  t.equal(maxConnectionsFor(100), 64, 'at least 64');
  t.equal(maxConnectionsFor(undefined), 1000, 'where the limit cannot be read');
  t.equal(maxConnectionsFor(Infinity), 10_000, 'unlimited');
  const limit = openFileLimit();
  if (process.platform === 'linux') t.ok(typeof limit === 'number' && limit > 0, `read from /proc/self/limits: ${limit}`);
  t.equal(openFileLimit('/nonexistent/limits'), undefined);
});
