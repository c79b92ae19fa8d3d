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
    anyone: null,
    admin: fleet.tokens.admin,
    release: fleet.tokens.release,
    support: fleet.tokens.support,
    customer: fleet.tokens.customer,
    device,
  };
  // /metrics declares its policy like the API does (docs/metrics.md), so it is held to it too.
  const routes = server.app.routeTable.filter((route) => route.url.startsWith('/api/') || route.url === '/metrics');
  t.ok(
    routes.some((route) => route.url === '/metrics'),
    'GET /metrics is in the matrix',
  );
  t.ok(routes.length > 30, `${routes.length} API routes in the table`);
  let checked = 0;
  for (const route of routes) {
    const allowed = expandAccess(route.access as never);
    const url = route.url.replace(/:(\w+)/g, (_, name: string) => (name === 'file' ? '1.json' : 'matrix-id'));
    for (const [caller, token] of Object.entries(callers)) {
      const response = await server.call(route.method, url, token, route.method === 'GET' || route.method === 'HEAD' ? undefined : {});
      const permitted = allowed.has('anyone') || allowed.has(caller);
      if (permitted) {
        t.notOk(
          [401, 403].includes(response.status) &&
            response.json?.error?.code !== 'not_assigned' &&
            response.json?.error?.code !== 'consent_required',
          `${caller} may ${route.method} ${route.url} (got ${response.status} ${response.json?.error?.code ?? ''})`,
        );
      } else {
        t.equal(response.status, caller === 'anyone' ? 401 : 403, `${caller} may not ${route.method} ${route.url}`);
      }
      t.ok(response.status < 500, `${caller} ${route.method} ${route.url}: no 5xx (${response.status})`);
      checked++;
    }
  }
  t.comment(`${checked} route × caller pairs checked`);
});

t.test("credentials: anyone but an admin manages only their own, and another user's answers as absent", async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  const users = (await server.call('GET', '/api/v1/users', fleet.tokens.admin)).json as { id: string; username: string }[];
  const adminId = users.find((user) => user.username === 'admin')!.id;
  for (const role of ['release', 'support', 'customer'] as const) {
    const token = fleet.tokens[role];
    const [self] = (await server.call('GET', '/api/v1/users', token)).json as { id: string; username: string }[];
    t.equal(self.username, `${role}-acme`, `${role} lists only themselves`);
    for (const [method, url, body] of [
      ['POST', `/api/v1/users/${adminId}/tokens`, undefined],
      ['DELETE', `/api/v1/users/${adminId}/tokens`, undefined],
      ['PUT', `/api/v1/users/${adminId}/password`, { password: 'taken over 1234' }],
    ] as const) {
      const response = await server.call(method, url, token, body);
      t.equal(response.status, 404, `${role} ${method} ${url.replace(adminId, ':admin')}: as if absent`);
    }
    const rotated = await server.call('POST', `/api/v1/users/${self.id}/tokens`, token);
    t.equal(rotated.status, 201, `${role} rotates their own token`);
  }
  t.equal((await server.call('GET', '/api/v1/plans', fleet.tokens.admin)).status, 200, "the admin's token survived every attempt");
});
