// Security headers on every response (issue: reliability and security), set by helmet rather
// than by hand so that the list keeps up with what browsers honour. The JSON API and /docs
// share helmet's defaults; the portal sets its own, stricter policy in its own context.
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

const options: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: true,
    directives: {
      // Sites often run sluice on plain HTTP inside a plant network: upgrading the docs
      // page's requests to https there would break it.
      'upgrade-insecure-requests': null,
      'frame-ancestors': ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
};

export default fp(async function securityHeadersPlugin(app: FastifyInstance) {
  // @fastify/helmet (used until now) built helmet's middleware again for every request,
  // parsing the CSP directives each time: about 11 µs, a third of a bare route, in the
  // check-in profile. These headers do not depend on the request: worked out once.
  const headers = Object.entries(helmetHeaders(options));
  app.addHook('onRequest', async (_request, reply) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
  });
});

/** The headers helmet's middleware sets, recorded from one run of it. */
export function helmetHeaders(helmetOptions: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: unknown) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(helmetOptions)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return headers;
}
