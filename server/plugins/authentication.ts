// Bearer token authentication and the per-route access policy. Each /api route declares
// `config.access`; a route without one fails at start-up rather than shipping open.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import { SluiceError } from '../errors.js';
import { expandAccess, principalKey, type Principal } from '../auth/principal.js';
import { createFailureLimiter } from '../auth/failure-limiter.js';

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new SluiceError('unauthorized', 'Authorization header must be "Bearer <token>"');
  return match[1];
}

export default fp(async function authenticationPlugin(app: FastifyInstance) {
  /** Resolves a token to a principal (one query); other plugins (the portal's sessions, DDI) reuse it. */
  const resolveToken = (token: string): Promise<Principal | null> => app.sluice.store.users.principalByToken(token);
  app.decorate('resolveToken', resolveToken);
  app.decorateRequest('principal', null);

  // The route table with each route's declared policy and schemas: the authorization matrix
  // and the bad-input fuzz tests read it, so a new route is covered the moment it exists.
  // Routes outside /api (DDI, portal, docs) are listed with access null: they authorize themselves.
  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    const url = route.url ?? route.path;
    if (url.startsWith('/api/') && !route.config?.access) {
      throw new Error(`route ${route.method} ${url} declares no access policy`);
    }
    for (const method of [route.method].flat()) {
      routeTable.push({ method, url, access: route.config?.access ?? null, schema: route.schema ?? {} });
    }
  });

  // Token guessing is slowed down per address, on the JSON API and on the DDI routes alike.
  const failures = createFailureLimiter();
  const tokenGuard: TokenGuard = {
    assertAllowed(request) {
      const wait = failures.retryAfter(request.ip, app.sluice.options.now().getTime());
      if (wait > 0) throw new SluiceError('rate_limited', `too many unknown tokens from this address; try again in ${wait} s`, { retryAfterSeconds: wait });
    },
    recordFailure(request) {
      failures.record(request.ip, app.sluice.options.now().getTime());
    },
  };
  app.decorate('tokenGuard', tokenGuard);
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config?.access;
    if (!access) return;
    const token = bearerToken(request);
    if (token) {
      tokenGuard.assertAllowed(request);
      const principal = await resolveToken(token);
      if (!principal) {
        tokenGuard.recordFailure(request);
        throw new SluiceError('unauthorized', 'unknown or revoked token');
      }
      request.principal = principal;
    }
    if (access.includes('anyone')) return;
    if (!request.principal) throw new SluiceError('unauthorized', 'a bearer token is required');
    if (!expandAccess(access).has(principalKey(request.principal))) {
      throw new SluiceError('forbidden', `role ${principalKey(request.principal)} may not ${request.method} this resource`);
    }
  });
});

declare module 'fastify' {
  interface FastifyInstance {
    resolveToken: (token: string) => Promise<Principal | null>;
    tokenGuard: TokenGuard;
    routeTable: RouteEntry[];
  }
}

export interface RouteEntry {
  method: string;
  url: string;
  access: readonly string[] | null;
  schema: FastifySchema;
}

/** Refuses (429) an address over the failure limit; counts a presented token that was unknown. */
export interface TokenGuard {
  assertAllowed(request: FastifyRequest): void;
  recordFailure(request: FastifyRequest): void;
}
