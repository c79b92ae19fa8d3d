// Security headers on the JSON API, on errors and on /docs (helmet), and the portal keeping its
// own stricter policy; /docs must still work in a real browser under the API's policy.
import t from 'tap';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startTestServer } from '../helpers/server.js';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

t.test('every API answer carries the security headers, errors included', async (t) => {
  const server = await startTestServer(t);
  for (const [url, token, status] of [
    ['/healthz', null, 200],
    ['/api/v1/trust/root.json', null, 200],
    ['/api/v1/plans', null, 401],
    ['/api/v1/plans', 'not-a-token', 401],
    ['/api/v1/no-such-route', server.adminToken, 404],
  ] as const) {
    const response = await server.call('GET', url, token);
    t.equal(response.status, status, url);
    t.equal(response.headers['x-content-type-options'], 'nosniff', `${url}: nosniff`);
    t.equal(response.headers['x-frame-options'], 'DENY', `${url}: not framed`);
    t.equal(response.headers['referrer-policy'], 'no-referrer', `${url}: no referrer`);
    t.match(response.headers['content-security-policy'], /frame-ancestors 'none'/, `${url}: CSP`);
    t.notMatch(response.headers['content-security-policy'], /upgrade-insecure-requests/, `${url}: plain-HTTP plant networks keep working`);
    t.match(response.headers['strict-transport-security'], /max-age=\d+/, `${url}: HSTS (honoured by browsers over TLS only)`);
  }
  const portal = await server.call('GET', '/login');
  t.equal(portal.status, 200);
  t.match(portal.headers['content-security-policy'], /form-action 'self'/, 'the portal keeps its own policy');
  t.equal(portal.headers['x-frame-options'], 'SAMEORIGIN');
});

t.test(
  '/docs renders in Chromium under that policy',
  { skip: existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath} (.ci/run installs it)` },
  async (t) => {
    const server = await startTestServer(t);
    const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
      ],
    });
    t.teardown(() => browser.close());
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(`${url}/docs`);
    await page.waitForSelector('.swagger-ui .info .title', { timeout: 20_000 });
    t.match(await page.textContent('.swagger-ui .info .title'), /sluice/, 'the OpenAPI UI rendered the document');
    t.same(violations, [], 'no CSP violations');
  },
);
