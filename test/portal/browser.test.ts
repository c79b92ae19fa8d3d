// The portal in a real browser (issue: portal): Debian's Chromium driven by playwright-core.
// Set SLUICE_SCREENSHOTS=DIR to keep a screenshot of every page visited.
import t from 'tap';
import { chromium, type Browser, type Page } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, seedFleet, signedManifest, uploadRelease } from '../helpers/server.js';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const screenshots = process.env.SLUICE_SCREENSHOTS;

t.test(
  'the portal in Chromium',
  { skip: existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath} (.ci/run installs it)` },
  async (t) => {
    const offset = new Date('2026-12-01T09:00:00Z').getTime() - Date.now();
    const server = await startTestServer(t, { now: () => new Date(Date.now() + offset) });
    const base = await server.app.listen({ port: 0, host: '127.0.0.1' });
    const fleet = await seedFleet(server, { timezone: 'Europe/Madrid' });
    const admin = server.adminToken;
    await server.call('POST', '/api/v1/users', admin, {
      username: 'ana@acme',
      role: 'customer',
      customer: 'acme',
      password: 'correct horse battery',
    });
    await server.call('POST', '/api/v1/users', admin, { username: 'sam@vendor', role: 'support', password: 'support password 1' });
    await server.call('POST', '/api/v1/customers', admin, { id: 'globex', name: 'Globex', timezone: 'America/New_York' });
    await server.call('POST', '/api/v1/users', admin, {
      username: 'gil@globex',
      role: 'customer',
      customer: 'globex',
      password: 'globex password 1',
    });
    for (const id of ['emu-0001', 'emu-0002', 'emu-0003']) await fleet.addDevice(id);
    const artifact = randomBytes(1024);
    const release = await uploadRelease(
      server,
      fleet.tokens.release,
      signedManifest(
        artifact,
        { product: 'emu', version: '2.1.0', fixes: ['F-1001'], notes: 'Fixes meter drift <script>alert(1)</script>' },
        [server.keys.release],
      ),
      artifact,
    );
    const plan = (
      await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
        customer: 'acme',
        release: release.json.id,
        notes: 'Please keep the <b>site</b> powered',
        windows: [
          { start: '2026-12-06T02:00', end: '2026-12-06T05:00', timezone: 'Europe/Madrid' },
          { cron: '0 2 * * 0', duration: 'PT3H', timezone: 'Europe/Madrid' },
        ],
        waves: [
          { name: 'Canary', count: 1, failureLimit: { count: 0 } },
          { name: 'Everything else', percent: 100 },
        ],
      })
    ).json;
    await server.call('POST', `/api/v1/plans/${plan.id}/propose`, fleet.tokens.support);
    await server.call('POST', '/api/v1/faults', fleet.tokens.support, {
      customer: 'acme',
      class: 'A',
      severity: 'major',
      title: 'Site offline',
    });
    await server.call('POST', '/api/v1/support-sessions', fleet.tokens.support, {
      device: 'emu-0001',
      reason: 'Meter drift investigation',
      collect: ['logs', 'system'],
    });

    const browser: Browser = await chromium.launch({
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
    const snap = async (page: Page, name: string) => {
      if (screenshots) await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
    };
    const login = async (page: Page, username: string, password: string) => {
      await page.goto(`${base}/login`);
      await page.fill('#username', username);
      await page.fill('#password', password);
      await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    };

    await t.test('a wrong password fails with a message', async (t) => {
      const page = await browser.newPage();
      await login(page, 'ana@acme', 'wrong password');
      t.match(await page.textContent('.flash.error'), /user name or password is wrong/);
      await snap(page, '01-login-failed');
      await page.close();
    });

    await t.test('a customer reads a proposed plan, confirms a window with staff names, sees it confirmed', async (t) => {
      const page = await browser.newPage();
      await login(page, 'ana@acme', 'correct horse battery');
      t.match(page.url(), /\/portal$/);
      t.match(await page.textContent('main'), /awaits your answer/);
      await snap(page, '02-customer-plans');
      await Promise.all([page.waitForLoadState('load'), page.click('text=Upgrade to Energy management unit 2.1.0')]);
      const written = page.locator('article.written');
      await t.resolves(written.locator('text=Rollback procedure').waitFor(), 'the written plan is shown in the page');
      t.match(await written.textContent(), /Fixes meter drift <script>alert\(1\)<\/script>/, 'notes shown as text, not run');
      t.match(await page.textContent('main'), /Europe\/Madrid/);
      await snap(page, '03-plan-proposed');
      await page.check('input[name=window][value="1"]');
      await page.fill('#maintainer-name', 'Ana García');
      await page.fill('#maintainer-phone', '+34 600 000 000');
      await Promise.all([page.waitForLoadState('load'), page.click('text=Confirm this window')]);
      t.match(await page.textContent('.flash.ok'), /window is confirmed/);
      t.match(await page.textContent('main'), /Ana García/);
      t.match(await page.textContent('h1'), /confirmed/);
      t.ok(await page.locator('a[href$="calendar.ics"]').count(), 'offers the .ics');
      t.ok((await page.locator('.bar-track').count()) >= 2, 'progress by wave as bars');
      await snap(page, '04-plan-confirmed');
      const api = (await server.call('GET', `/api/v1/plans/${plan.id}`, fleet.tokens.support)).json;
      t.match(api.confirmation, { window: 1, maintainer: { name: 'Ana García', phone: '+34 600 000 000' }, by: 'user:ana@acme' });

      for (const [path, name] of [
        ['/portal/devices', '05-devices'],
        ['/portal/faults', '06-faults'],
        ['/portal/support', '07-support'],
      ] as const) {
        await page.goto(`${base}${path}`);
        await snap(page, name);
      }
      t.match(await page.textContent('main'), /Meter drift investigation/);
      await Promise.all([page.waitForLoadState('load'), page.click('text=Answer this request')]);
      await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("Consent")')]);
      t.match(await page.textContent('.flash.ok'), /Consent recorded/);
      await page.goto(`${base}/portal/faults`);
      await page.selectOption('#fault-class', 'B');
      await page.fill('#fault-title', 'Display flickers');
      await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("Report")')]);
      t.match(await page.textContent('main'), /Display flickers/);
      await page.close();
    });

    await t.test("a customer cannot open another customer's plan by changing the URL", async (t) => {
      const page = await browser.newPage();
      await login(page, 'gil@globex', 'globex password 1');
      const response = await page.goto(`${base}/portal/plans/${plan.id}`);
      t.equal(response?.status(), 404);
      t.match(await page.textContent('.flash.error'), /no such plan/);
      t.notMatch(await page.textContent('body'), /2\.1\.0/, 'nothing of the plan leaks');
      t.equal((await page.goto(`${base}/portal/plans/${plan.id}/document`))?.status(), 404);
      await snap(page, '08-other-customer');
      await page.close();
    });

    await t.test('a form posted without its CSRF token is refused', async (t) => {
      const page = await browser.newPage();
      await login(page, 'ana@acme', 'correct horse battery');
      const status = await page.evaluate(async (url) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'class=A&title=forged',
        });
        return { status: response.status, text: await response.text() };
      }, `${base}/portal/faults`);
      t.equal(status.status, 403);
      t.match(status.text, /did not come from this site/);
      t.equal(
        (await server.call('GET', '/api/v1/faults?class=A', fleet.tokens.support)).json.filter(
          (fault: { title: string }) => fault.title === 'forged',
        ).length,
        0,
        'nothing stored',
      );
      await page.close();
    });

    await t.test('staff see the fleet, plans, the faults queue and support sessions', async (t) => {
      const page = await browser.newPage();
      await login(page, 'sam@vendor', 'support password 1');
      t.match(page.url(), /\/staff$/);
      await snap(page, '09-staff-fleet');
      await page.goto(`${base}/staff/plans`);
      t.match(await page.textContent('main'), /confirmed/);
      await snap(page, '10-staff-plans');
      await page.goto(`${base}/staff/faults`);
      t.match(await page.textContent('main'), /Site offline/, 'the faults queue (issue 18; the SLA report is /staff/sla)');
      await snap(page, '11-staff-faults');
      await page.goto(`${base}/staff/support`);
      await snap(page, '12-staff-support');
      const customerPage = await page.goto(`${base}/portal`);
      t.equal(customerPage?.status(), 403, 'staff do not get customer pages');
      await page.close();
    });

    await t.test('login failures are rate limited', async (t) => {
      const page = await browser.newPage();
      for (let attempt = 0; attempt < 5; attempt++) await login(page, 'gil@globex', `guess ${attempt}`);
      await login(page, 'gil@globex', 'globex password 1');
      t.match(await page.textContent('.flash.error'), /Too many failed sign-ins/, 'even the right password waits');
      await page.close();
    });
  },
);
