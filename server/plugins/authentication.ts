// Bearer token authentication and the per-route access policy. Each /api route declares
// `config.access`; a route without one fails at start-up rather than shipping open.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import { SluiceError } from '../errors.js';
import { expandAccess, principalKey, type Principal } from '../auth/principal.js';
import { addressKey, createFailureLimiter } from '../auth/failure-limiter.js';

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
  // The token is looked up first: a valid one is served whatever its address's count, and
  // only unknown ones are counted and refused (429), so guesses sent from behind a customer's
  // NAT never lock out that customer's devices and users.
  const failures = createFailureLimiter();
  const tokenGuard: TokenGuard = {
    unknownToken(request, message) {
      const address = addressKey(request.ip);
      const now = app.sluice.options.now().getTime();
      const wait = failures.retryAfter(address, now);
      if (wait > 0)
        return new SluiceError('rate_limited', `too many unknown tokens from this address; try again in ${wait} s`, {
          retryAfterSeconds: wait,
        });
      failures.record(address, now);
      return new SluiceError('unauthorized', message);
    },
  };
  app.decorate('tokenGuard', tokenGuard);
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config?.access;
    if (!access) return;
    const token = bearerToken(request);
    if (token) {
      // A route may read more with the token in the same statement (the check-in does).
      const principal = await (request.routeOptions.config?.resolveToken?.(token, request) ?? resolveToken(token));
      if (!principal) throw tokenGuard.unknownToken(request, 'unknown or revoked token');
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
  interface FastifyContextConfig {
    /** Resolves the bearer token instead of the plain lookup; whatever else it reads is the route's to keep. */
    resolveToken?: (token: string, request: FastifyRequest) => Promise<Principal | null>;
  }
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

export interface TokenGuard {
  /**
   * The error for a presented token that was looked up and not found: 401 with `message`,
   * counted against the caller's address, or 429 once the address is over the limit.
   */
  unknownToken(request: FastifyRequest, message: string): SluiceError;
}
