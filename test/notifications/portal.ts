// The console and the portal as a signed-in user uses them: pages and form posts with the
// session cookie and its CSRF token, for the notification tests where people act on a page.
import type { TestServer } from '../helpers/server.js';
import { createSession, sessionCookie } from '../../server/portal/sessions.js';

/** A portal session of `username` (no password round: the session is what the pages read). */
export async function portalOf(server: TestServer, username: string) {
  const user = (await server.app.sluice.store.users.getByName(username))!;
  const session = await createSession(server.app.sluice.store, user.id, server.app.sluice.options.now());
  const cookie = `${sessionCookie}=${session.cookie}`;
  return {
    get: async (url: string) => (await server.app.inject({ method: 'GET', url, headers: { cookie } })).body,
    post: async (url: string, fields: Record<string, string>) =>
      server.app.inject({
        method: 'POST',
        url,
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: session.csrf, ...fields }).toString(),
      }),
  };
}
