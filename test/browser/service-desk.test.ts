// Issue 18 in a real browser, the service desk: a customer reports a fault on a phone (a
// refused report keeps what was typed), support acknowledges it from the queue and resolves
// it with a text the customer then reads; remote support from request through consent (who,
// when, what, for how long) to the bundle's download; a commissioning plan drafted, proposed
// and confirmed as commissioning; the SLA chart, the audit log; a release engineer who sees
// releases only and yanks one with a reason. Every page checked at 1280 and 390 px.
import t from 'tap';
import { gunzipSync, gzipSync } from 'node:zlib';
import { browserFixture, passwords } from './fixture.js';
import { checkPage, launch, noBrowser, signIn, submit } from './harness.js';

t.test('the service desk in the browser', { skip: noBrowser }, async (t) => {
  const fixture = await browserFixture(t);
  const { base, server, fleet } = fixture;
  const browser = await launch(t);
  const staff = await signIn(browser, base, 'sam@vendor', passwords.support);
  const customer = await signIn(browser, base, 'ana@acme', passwords.customer, 390);
  const { page } = staff;
  const phone = customer.page;

  await t.test('fault report, acknowledge, resolve', async (t) => {
    await phone.goto(`${base}/portal/faults`);
    t.match(
      await phone.textContent('#class-help'),
      /A \(critical\): processing starts within 15 min; resolved within 1 h \(major\) or 2 h \(general\)/,
      'the classes explained where one is picked',
    );
    await phone.selectOption('#fault-class', 'A');
    await phone.fill('#fault-title', '   ');
    await phone.fill('#fault-description', 'The site controller shows no meters.');
    await submit(phone, 'button:has-text("Report")');
    t.match(await phone.textContent('#report-error'), /Give the fault a title/);
    t.equal(await phone.inputValue('#fault-description'), 'The site controller shows no meters.', 'what was typed is kept');
    t.equal(await phone.inputValue('#fault-class'), 'A');
    await checkPage(t, customer, 'portal-fault-refused');
    await phone.fill('#fault-title', 'Site offline');
    await submit(phone, 'button:has-text("Report")');
    t.match(await phone.textContent('.flash.ok'), /received/);
    t.match(
      await phone.textContent('main'),
      /Site offline.*by Tue 1 Dec 2026, 10:1\d Europe\/Madrid\s*due in 1[45] min/s,
      "due time in the customer's zone, with a countdown",
    );
    await checkPage(t, customer, 'portal-faults');

    await page.goto(`${base}/staff/faults`);
    const first = await page.locator('#live-faults tbody tr').first().textContent();
    t.match(first, /Site offline/, 'the class A fault, due soonest, heads the queue');
    t.match(first, /due in 1[45] min/);
    await checkPage(t, staff, 'console-faults');
    await submit(page, '#live-faults tbody tr:first-child a');
    await submit(page, 'text=Acknowledge');
    t.match(await page.textContent('.flash.ok'), /processing started/);
    await page.fill('#resolution', ' ');
    await submit(page, 'button:has-text("Resolve")');
    t.match(await page.textContent('#resolve-error'), /Write the resolution/);
    await page.fill('#resolution', 'Replaced the site router; meters report again.');
    await submit(page, 'button:has-text("Resolve")');
    t.match(await page.textContent('main'), /resolved in time/);
    t.match(await page.textContent('main'), /the clock runs around the clock/, 'a class A clock is said to run around the clock');
    t.match(
      await page.textContent('main'),
      /Notifications sent.*fault\.reported.*fault\.resolved|Notifications sent.*fault\.resolved.*fault\.reported/s,
      'the notifications of the fault are listed',
    );
    await checkPage(t, staff, 'console-fault');
    await phone.goto(`${base}/portal/faults`);
    t.match(await phone.textContent('main'), /Replaced the site router; meters report again\./, 'the customer reads the resolution');
  });

  await t.test('remote support: request, consent with a duration, bundle download', async (t) => {
    await page.goto(`${base}/staff/support/new?device=emu-0001`);
    await page.fill('#support-reason', 'Meter drift investigation');
    await page.check('input[name=collect][value=journal]');
    await checkPage(t, staff, 'console-support-new');
    await submit(page, 'text=Ask the customer for consent');
    t.match(await page.textContent('main'), /waiting for the customer/);
    const sessionUrl = page.url().split('?')[0];
    const sessionId = sessionUrl.split('/').pop()!;

    await phone.goto(`${base}/portal/support`);
    await checkPage(t, customer, 'portal-support');
    await submit(phone, 'text=Answer this request');
    const facts = await phone.textContent('dl.facts');
    t.match(facts, /Asked by\s*sam@vendor/, 'who asked');
    t.match(facts, /When\s*Tue 1 Dec 2026, \d\d:\d\d Europe\/Madrid/, 'when, in local time');
    t.match(facts, /journal: the system journal/, 'what will be collected');
    await checkPage(t, customer, 'portal-support-consent');
    await phone.selectOption('#consent-hours', '4');
    await submit(phone, 'button:has-text("Consent")');
    t.match(await phone.textContent('.flash.ok'), /Consent recorded/);
    t.match(await phone.textContent('main'), /You consented until/);
    const session = (await server.call('GET', '/api/v1/support-sessions', fleet.tokens.support)).json.find(
      (entry: { id: string }) => entry.id === sessionId,
    );
    t.equal(new Date(session.expiresAt).getTime() - new Date(session.decidedAt).getTime(), 4 * 3600_000, 'consent for the chosen 4 hours');

    t.equal(await fixture.uploadBundle('emu-0001', sessionId, gzipSync('{"logs":"meter drift"}')), 204);
    await page.goto(sessionUrl);
    await checkPage(t, staff, 'console-support-session');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Download')]);
    const path = await download.path();
    const { readFileSync } = await import('node:fs');
    t.equal(gunzipSync(readFileSync(path)).toString(), '{"logs":"meter drift"}', 'the bundle downloads');
    await page.goto(`${base}/staff/support`);
    await checkPage(t, staff, 'console-support');
  });

  await t.test('a commissioning plan reads as commissioning', async (t) => {
    await page.goto(`${base}/staff/commissioning/new?customer=acme`);
    await page.fill('#date', '2026-12-10T09:00');
    await page.fill('#equipment', '4 EMU-500\n1 gateway');
    await page.fill('#services', 'Wiring check\nFirst start');
    await page.fill('#engineers', 'Marta Ruiz, +34 611 111 111');
    await page.fill('#once-start-0', '2026-12-10T09:00');
    await page.fill('#once-end-0', '2026-12-10T13:00');
    await checkPage(t, staff, 'console-commissioning-new');
    await submit(page, 'text=Save the draft');
    t.match(await page.textContent('.flash.ok'), /Draft saved/);
    await submit(page, 'button[value=propose]');
    const planId = new URL(page.url()).pathname.split('/').pop()!;
    await page.goto(`${base}/staff/commissioning`);
    await checkPage(t, staff, 'console-commissioning');

    await phone.goto(`${base}/portal/plans/${planId}`);
    const written = await phone.textContent('article.written');
    t.match(written, /Commissioning plan/);
    t.match(written, /Mode\s*On site/);
    t.match(written, /Date\s*Thursday 10 December 2026, 09:00/, 'the date in local time');
    t.match(written, /EMU-500\s*4/, 'equipment as a table');
    t.match(written, /Marta Ruiz\s*\+34 611 111 111/);
    t.notMatch(written, /Devices|Rollback procedure/, 'not an upgrade with an empty device table');
    await checkPage(t, customer, 'portal-commissioning');
    await phone.fill('#maintainer-name', 'Ana García');
    await phone.fill('#maintainer-phone', '+34 600 000 000');
    await submit(phone, 'text=Confirm this window');
    t.match(await phone.textContent('.flash.ok'), /window is confirmed/);
  });

  await t.test('the SLA report and the audit log', async (t) => {
    await page.goto(`${base}/staff/sla`);
    t.ok((await page.locator('svg.chart').count()) === 4, 'a chart per class');
    t.match(
      (await page.getAttribute('#class-A ~ svg, section:has(#class-A) svg', 'aria-label')) ?? '',
      /1 met/,
      'class A: the resolved fault met its clocks',
    );
    await checkPage(t, staff, 'console-sla');
    await page.goto(`${base}/staff/audit`);
    await page.fill('#audit-action', 'support.consent');
    await submit(page, 'button:has-text("Filter")');
    t.equal(await page.locator('main tbody tr').count(), 1, 'filtered by action');
    t.match(await page.textContent('main tbody'), /user:ana@acme/);
    await checkPage(t, staff, 'console-audit');
  });

  await t.test('a release engineer sees releases only, and yanks one with a reason', async (t) => {
    const engineer = await signIn(browser, base, 'rita@vendor', passwords.release);
    t.match(engineer.page.url(), /\/staff\/releases$/);
    t.same(await engineer.page.locator('nav a').allTextContents(), ['Releases']);
    t.equal((await engineer.page.goto(`${base}/staff/faults`))?.status(), 403, 'no faults queue');
    await engineer.page.goto(`${base}/staff/releases/${fixture.release.id}`);
    await engineer.page.fill('#yank-reason', 'Bricks units with 512 MB of memory');
    await submit(engineer.page, 'button:has-text("Yank")');
    t.match(await engineer.page.textContent('main'), /Yanked .*Bricks units with 512 MB of memory/);
    await checkPage(t, engineer, 'console-release-yanked');
    const release = (await server.call('GET', `/api/v1/releases/${fixture.release.id}`, fleet.tokens.support)).json;
    t.equal(release.yankReason, 'Bricks units with 512 MB of memory');
  });
});
