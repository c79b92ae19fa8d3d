// A GET with node:http(s) for the artifact download. Why not undici, which the rest of the
// agent speaks: measured on a 256 MiB download, undici's parser and body stream cost the
// agent about 40% more time and 40 MiB more peak memory than node:http's, and the
// download is the one place where the agent moves enough bytes for that to matter.
import { request as httpRequest, type Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface GetOptions {
  headers: Record<string, string>;
  /** Longest silence before the answer's head, and then between two chunks of its body. */
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Shared sockets (an https.Agent for https URLs). None: a connection of its own. */
  agent?: HttpAgent;
}

export function get(url: string, options: GetOptions): Promise<IncomingMessage> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let silenceMs = options.headersTimeoutMs;
    // By default a connection of its own, closed when the download ends: downloads are rare,
    // and an idle keep-alive socket kept beside the check-in connection would double the
    // sockets a fleet holds open on the server.
    const request = send(url, { method: 'GET', headers: options.headers, agent: options.agent ?? false }, (response) => {
      silenceMs = options.bodyTimeoutMs;
      request.setTimeout(silenceMs);
      resolve(response);
    });
    request.setTimeout(silenceMs, () => request.destroy(new Error(`no data for ${silenceMs / 1000} s`)));
    request.once('error', reject);
    request.end();
  });
}
