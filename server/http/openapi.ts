// What /docs (the OpenAPI document @fastify/swagger builds from the route schemas) leaves out.
import type { RouteOptions } from 'fastify';

/**
 * An onRoute hook for a context whose routes are not the API (the portal's HTML pages): they
 * stay out of /docs. test/contract/openapi.test.ts holds every route /docs does show to
 * a summary, tags and real reply schemas.
 */
export function hideFromDocs(route: RouteOptions): void {
  route.schema = { ...route.schema, hide: true };
}
