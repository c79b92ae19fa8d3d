// Security headers on every response (issue: reliability and security), set by helmet rather
// than by hand so that the list keeps up with what browsers honour. The JSON API and /docs
// share helmet's defaults; the portal sets its own, stricter policy in its own context.
import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export default fp(async function securityHeadersPlugin(app: FastifyInstance) {
  await app.register(helmet, {
    global: true,
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
  });
});
