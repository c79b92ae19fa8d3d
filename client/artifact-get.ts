// The artifact's GET, redirects included, with the device token for the configured server's
// origin only (DESIGN.md, "Trust model"). An artifact may live elsewhere: the server may name
// or redirect to a short-lived pre-signed object-store URL, which carries its authorisation in
// itself. Whoever runs another origin could replay the token against the server, and a check-in
// answer signed with a stolen server key can name any URL, so the token never leaves the origin
// (scheme, host and port: not over plain http to the same host either).
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import { get } from './http-get.js';

export interface ArtifactGet {
  url: string;
  /** The configured server: the only origin that gets the token. */
  server: string;
  token: string;
  /** Headers for every hop (Range), the token aside. */
  headers: Record<string, string>;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Sockets to the configured server; another origin gets a connection of its own. */
  agent?: HttpAgent;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);
/** As many as browsers and curl's default allow in practice; a loop fails fast. */
export const maximumRedirects = 5;

export const sameOrigin = (url: URL, server: string) => url.origin === new URL(server).origin;

/** The answer, and the URL that gave it (after the redirects). */
export interface ArtifactAnswer {
  response: IncomingMessage;
  url: URL;
}

/** The first answer that is not a redirect; throws on a bad Location, a loop, or a non-HTTP URL. */
export async function getArtifact(request: ArtifactGet): Promise<ArtifactAnswer> {
  let url = new URL(request.url);
  for (let hops = 0; ; hops++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`the artifact URL ${url.protocol}// is not HTTP`);
    const home = sameOrigin(url, request.server);
    const response = await get(url.toString(), {
      headers: home ? { ...request.headers, authorization: `Bearer ${request.token}` } : request.headers,
      headersTimeoutMs: request.headersTimeoutMs,
      bodyTimeoutMs: request.bodyTimeoutMs,
      agent: home ? request.agent : undefined,
    });
    if (!redirectStatuses.has(response.statusCode ?? 0)) return { response, url };
    response.resume();
    const location = response.headers.location;
    if (!location) throw new Error(`${response.statusCode} without a Location`);
    if (hops >= maximumRedirects) throw new Error(`more than ${maximumRedirects} redirects`);
    url = new URL(location, url);
  }
}
