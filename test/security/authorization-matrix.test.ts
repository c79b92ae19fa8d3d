// The authorization matrix, generated from the server's own route table: every /api route is
// called as every kind of caller, and allow or deny must match the route's declared policy.
// A route without a policy cannot start (the authentication plugin refuses it), so a new route
// is covered here the moment it exists.
import t from 'tap';
import { startTestServer, seedFleet } from '../helpers/server.js';
import { expandAccess } from '../../server/auth/principal.js';

t.test('every route, every role: allowed exactly when its policy says so', async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  const device = await fleet.addDevice('emu-1');
  const callers: Record<string, string | null> = {
    anyone: null, admin: fleet.tokens.admin, release: fleet.tokens.release, support: fleet.tokens.support, customer: fleet.tokens.customer, device,
  };
  const routes = server.app.routeTable.filter((route) => route.url.startsWith('/api/'));
  t.ok(routes.length > 30, `${routes.length} API routes in the table`);
  let checked = 0;
  for (const route of routes) {
    const allowed = expandAccess(route.access as never);
    const url = route.url.replace(/:(\w+)/g, (_, name: string) => (name === 'file' ? '1.json' : 'matrix-id'));
    for (const [caller, token] of Object.entries(callers)) {
      const response = await server.call(route.method, url, token, route.method === 'GET' || route.method === 'HEAD' ? undefined : {});
      const permitted = allowed.has('anyone') || allowed.has(caller);
      if (permitted) {
        t.notOk([401, 403].includes(response.status) && response.json?.error?.code !== 'not_assigned' && response.json?.error?.code !== 'consent_required',
          `${caller} may ${route.method} ${route.url} (got ${response.status} ${response.json?.error?.code ?? ''})`);
      } else {
        t.equal(response.status, caller === 'anyone' ? 401 : 403, `${caller} may not ${route.method} ${route.url}`);
      }
      t.ok(response.status < 500, `${caller} ${route.method} ${route.url}: no 5xx (${response.status})`);
      checked++;
    }
  }
  t.comment(`${checked} route × caller pairs checked`);
});
