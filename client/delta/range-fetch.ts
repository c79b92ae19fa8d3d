// Byte ranges of the artifact, one Range request per piece of missing chunks, over a few
// kept-alive connections (range-queue.ts decides how many are in flight). The server may answer with a redirect to a pre-signed object-store URL
// (--artifact-delivery redirect): that URL is then asked directly for the next ranges, without
// the token (artifact-get.ts), until the store refuses it as expired, when the server is
// asked for a fresh one. X-Accel-Redirect needs nothing here: nginx answers the Range itself.
import { Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { AgentError } from '../errors.js';
import { getArtifact, sameOrigin } from '../artifact-get.js';
import { get } from '../http-get.js';

export interface RangeSource {
  url: string;
  server: string;
  token: string;
}

const timeouts = { headersTimeoutMs: 30_000, bodyTimeoutMs: 60_000 };

const agentFor = (url: string, sockets: number) =>
  url.startsWith('https:')
    ? new HttpsAgent({ keepAlive: true, maxSockets: sockets, noDelay: true })
    : new HttpAgent({ keepAlive: true, maxSockets: sockets, noDelay: true });

export class RangeFetcher {
  private direct: URL | null = null;
  private readonly serverAgent: HttpAgent;
  private directAgent: HttpAgent | null = null;
  /** Body bytes received, for the report. */
  received = 0;

  constructor(
    private readonly source: RangeSource,
    private readonly sockets = 1,
  ) {
    this.serverAgent = agentFor(source.server, sockets);
  }

  /** Streams bytes start..end (inclusive) to `consume`; throws download_failed when they do not all come. */
  async fetch(start: number, end: number, consume: (data: Buffer) => void): Promise<void> {
    const response = await this.open(`bytes=${start}-${end}`);
    const range = /^bytes (\d+)-(\d+)\//.exec(String(response.headers['content-range'] ?? ''));
    if (response.statusCode !== 206 || !range || Number(range[1]) !== start || Number(range[2]) !== end) {
      response.destroy();
      // A server or store that ignores Range would send the whole image: not a delta any more.
      throw new DeltaUnusable(
        'range_refused',
        `asked for bytes ${start}-${end}, got HTTP ${response.statusCode} ${response.headers['content-range'] ?? 'without Content-Range'}`,
      );
    }
    const expected = end - start + 1;
    let got = 0;
    try {
      for await (const data of response as AsyncIterable<Buffer>) {
        got += data.length;
        this.received += data.length;
        if (got > expected) throw new DeltaUnusable('range_too_long', `more than the ${expected} bytes asked for`);
        consume(data);
      }
    } catch (error) {
      response.destroy();
      if (error instanceof AgentError || error instanceof DeltaUnusable) throw error;
      throw new AgentError('download_failed', `a range broke off: ${(error as Error).message}`);
    }
    if (got < expected) throw new AgentError('download_failed', `a range ended after ${got} of ${expected} bytes`);
  }

  private async open(range: string): Promise<IncomingMessage> {
    try {
      if (this.direct) {
        const response = await get(this.direct.toString(), { headers: { range }, ...timeouts, agent: this.directAgent ?? undefined });
        // Expired (403) or gone: ask the server again, which signs a fresh URL.
        if (response.statusCode !== 403 && response.statusCode !== 404) return response;
        response.resume();
        this.direct = null;
      }
      const answer = await getArtifact({
        url: this.source.url,
        server: this.source.server,
        token: this.source.token,
        headers: { range },
        ...timeouts,
        agent: this.serverAgent,
      });
      if (!sameOrigin(answer.url, this.source.server)) {
        this.direct = answer.url;
        this.directAgent ??= agentFor(answer.url.toString(), this.sockets);
      }
      return answer.response;
    } catch (error) {
      throw new AgentError('download_failed', `cannot reach the artifact: ${(error as Error).message}`);
    }
  }

  close(): void {
    this.serverAgent.destroy();
    this.directAgent?.destroy();
  }
}

/** The delta cannot be used (a bad index, a chunk that does not verify, no Range): download the whole artifact. */
export class DeltaUnusable extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DeltaUnusable';
  }
}
