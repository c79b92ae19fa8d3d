// The web portal, served by the sluice server itself under / (issue: portal). Server-rendered
// HTML with forms that work without JavaScript; a session cookie (HttpOnly, SameSite=Strict,
// Secure when the original request was HTTPS, also behind a trusted proxy); a CSRF token on
// every form; password attempts limited per account and per address (auth/sign-in-limits.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { randomBytes } from 'node:crypto';
import { checkPassword } from '../auth/password-check.js';
import { refusalText } from '../auth/sign-in-limits.js';
import { SluiceError } from '../errors.js';
import { html } from './html.js';
import { page } from './layout.js';
import { createSession, destroySession, loadSession, loginCookie, sessionCookie, tokensMatch, type PortalSession } from './sessions.js';
import customerPages from './customer-pages.js';
import staffPages from './staff-pages.js';
import { liveScript } from './assets/live.js';

declare module 'fastify' {
  interface FastifyRequest {
    portal: PortalSession | null;
  }
}

const securityHeaders = {
  'content-security-policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'; form-action 'self'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

export function cookieOptions(request: FastifyRequest) {
  return { path: '/', httpOnly: true, sameSite: 'strict' as const, secure: request.protocol === 'https' };
}

/** Renders a refusal inside the page, never a raw JSON error. */
export function refusal(reply: FastifyReply, request: FastifyRequest, status: number, title: string, text: string) {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .send(
      page({
        title,
        user: request.portal?.user,
        csrf: request.portal?.csrf,
        flash: { kind: 'error', text },
        body: html`<h1>${title}</h1>
          <p><a href="/">Back to the start page</a></p>`,
      }),
    );
}

export default async function portalPlugin(app: FastifyInstance) {
  const { store, options } = app.sluice;
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  app.decorateRequest('portal', null);

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(securityHeaders);
    request.portal = await loadSession(store, request.cookies[sessionCookie], options.now());
  });
  // Every form posts its CSRF token; a POST without the session's token is refused.
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST' || request.url === '/login') return;
    const given = (request.body as Record<string, unknown> | undefined)?._csrf;
    if (!request.portal || !tokensMatch(request.portal.csrf, given)) {
      return refusal(
        reply,
        request,
        403,
        'Request refused',
        'This form has expired or did not come from this site. Reload the page and try again.',
      );
    }
  });
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    if (error instanceof SluiceError) return refusal(reply, request, error.status, 'That did not work', error.message);
    if ((error.statusCode ?? 500) < 500) return refusal(reply, request, error.statusCode!, 'That did not work', error.message);
    request.log.error({ err: error }, 'portal error: this is a bug');
    return refusal(reply, request, 500, 'Something went wrong', 'An internal error occurred; it has been logged.');
  });

  const loginPage = (request: FastifyRequest, reply: FastifyReply, status: number, message: string | null) => {
    const token = randomBytes(24).toString('base64url');
    reply.setCookie(loginCookie, token, { ...cookieOptions(request), maxAge: 3600 });
    return reply
      .status(status)
      .type('text/html; charset=utf-8')
      .send(
        page({
          title: 'Sign in',
          flash: message ? { kind: 'error', text: message } : null,
          body: html`<div class="login card">
            <h1>Sign in to sluice</h1>
            <form method="post" action="/login">
              <input type="hidden" name="_csrf" value="${token}" /> <label for="username">User name</label
              ><input id="username" name="username" autocomplete="username" required /> <label for="password">Password</label
              ><input id="password" name="password" type="password" autocomplete="current-password" required />
              <button type="submit">Sign in</button>
            </form>
          </div>`,
        }),
      );
  };

  app.get('/', async (request, reply) => {
    if (!request.portal) return reply.redirect('/login');
    return reply.redirect(request.portal.user.role === 'customer' ? '/portal' : '/staff');
  });
  app.get('/login', async (request, reply) => (request.portal ? reply.redirect('/') : loginPage(request, reply, 200, null)));

  app.post('/login', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, string | undefined>;
    // Before a session exists, CSRF is a double-submit: the form's token must equal the cookie's.
    const cookieToken = request.cookies[loginCookie];
    if (!cookieToken || !tokensMatch(cookieToken, body._csrf))
      return loginPage(request, reply, 403, 'The sign-in form expired. Please try again.');
    const username = String(body.username ?? '').slice(0, 100);
    const now = options.now();
    const check = await checkPassword(store, username, String(body.password ?? '').slice(0, 1000), request.ip, now);
    if (check.outcome === 'limited') {
      reply.header('retry-after', String(check.refusal.retryAfterSeconds));
      return loginPage(request, reply, 429, refusalText(check.refusal));
    }
    if (check.outcome === 'rejected') return loginPage(request, reply, 401, 'The user name or password is wrong.');
    const { user } = check;
    const session = await store.transaction(async (tx) => {
      const created = await createSession(tx, user.id, now);
      await tx.audit.record({ at: now, actor: `user:${user.username}`, action: 'portal.login', subject: `user:${user.username}` });
      return created;
    });
    reply.clearCookie(loginCookie, { path: '/' });
    reply.setCookie(sessionCookie, session.cookie, cookieOptions(request));
    return reply.redirect('/', 303);
  });

  app.post('/logout', async (request, reply) => {
    await destroySession(store, request.cookies[sessionCookie]);
    reply.clearCookie(sessionCookie, { path: '/' });
    return reply.redirect('/login', 303);
  });

  // The portal's one script, from 'self' as the CSP wants; pages work without it.
  app.get('/assets/live.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(liveScript),
  );

  await app.register(customerPages);
  await app.register(staffPages);
}
