// Issue 18 in a real browser: support drafts a plan in the console, proposes it; the customer
// reads the written plan on a phone, counters (a refused window first: the error says what to
// fix and keeps what was typed); support sees the counter-proposal and proposes again; the
// customer confirms; a simulated agent rolls every device out to committed while the console's
// rollout view updates itself. Every page is checked at 1280 and 390 px (harness.ts).
import t from 'tap';
import { browserFixture, passwords, agentStates } from './fixture.js';
import { checkPage, launch, noBrowser, signIn, submit } from './harness.js';

t.test('a plan from draft to committed, in the browser', { skip: noBrowser }, async (t) => {
  const fixture = await browserFixture(t);
  const { base, server, fleet } = fixture;
  const browser = await launch(t);
  const staff = await signIn(browser, base, 'sam@vendor', passwords.support);
  const customer = await signIn(browser, base, 'ana@acme', passwords.customer, 390);
  const { page } = staff;

  await checkPage(t, staff, 'console-overview');
  await page.goto(`${base}/staff/releases`);
  await checkPage(t, staff, 'console-releases');
  await submit(page, 'text=emu 2.1.0');
  t.match(await page.textContent('main'), /Meter readings drift after a week/, 'the release names the fault it fixes, with its title');
  await checkPage(t, staff, 'console-release');

  // The automatic draft exists, with its internal note kept away from the customer.
  const automatic = (await server.call('GET', '/api/v1/plans?customer=acme', fleet.tokens.support)).json[0];
  t.equal(automatic.status, 'draft');
  await page.goto(`${base}/staff/plans/${automatic.id}`);
  t.match(await page.textContent('main'), /Agree the window with the customer/, 'support reads the internal note');
  t.notMatch(await page.textContent('article.written'), /Agree the window/, 'the written plan does not carry it');
  await checkPage(t, staff, 'console-plan-automatic-draft');
  await page.goto(`${base}/staff/plans`);
  await checkPage(t, staff, 'console-plans');

  await t.test('support drafts a plan with the windows editor and a preview', async (t) => {
    await page.goto(`${base}/staff/plans/new?release=${fixture.release.id}&customer=acme`);
    t.match(
      await page.textContent('#deadline-help'),
      /Fri 1 Jan 2027, 10:00 Europe\/Madrid/,
      "the one-month default deadline is shown in the customer's zone",
    );
    await page.fill('#once-start-0', '2026-12-06T02:00');
    await page.fill('#once-end-0', '2026-12-06T05:00');
    await page.check('input[name=every_days_0][value="0"]');
    await page.fill('#every-time-0', '02:00');
    await page.fill('#every-hours-0', '3');
    await page.fill('#canary-count', '1');
    await page.fill('#notes', 'Please keep the site powered.');
    await page.fill('#internal-notes', 'Call Ana before the window.');
    await submit(page, 'button[value=preview]');
    t.match(await page.textContent('.preview'), /Sun 13 Dec 2026, 02:00/, 'the preview lists the next occurrences in local time');
    t.equal(await page.inputValue('#internal-notes'), 'Call Ana before the window.', 'what was typed is kept');
    await checkPage(t, staff, 'console-plan-new-preview');
    await submit(page, 'button[value=draft]');
    t.match(await page.textContent('.flash.ok'), /Draft saved/);
    t.match(await page.textContent('article.written'), /Window 1:.*Window 2:/s, 'windows numbered from 1');
    await checkPage(t, staff, 'console-plan-draft');
    await submit(page, 'button[value=propose]');
    t.match(await page.textContent('.flash.ok'), /Proposed/);
  });
  const planId = new URL(page.url()).pathname.split('/').pop()!;

  await t.test('the customer reads the written plan first, then counters on a phone', async (t) => {
    const phone = customer.page;
    await phone.goto(`${base}/portal`);
    t.match(await phone.textContent('main'), /awaits your answer/);
    await checkPage(t, customer, 'portal-plans');
    await phone.goto(`${base}/portal/plans/${planId}`);
    const order = await phone.evaluate(() => {
      const written = document.querySelector('article.written');
      const decision = document.querySelector('#confirm-title');
      return written && decision ? Boolean(written.compareDocumentPosition(decision) & Node.DOCUMENT_POSITION_FOLLOWING) : null;
    });
    t.equal(order, true, 'the written plan comes before the decision');
    const written = await phone.textContent('article.written');
    t.match(written, /Energy management unit/, "the product's name");
    t.match(written, new RegExp(`${fixture.fault.id}: Meter readings drift after a week`), "the fault's title next to its id");
    t.match(written, /Window 1: Sunday 6 December 2026, 02:00–05:00/);
    t.notMatch(await phone.textContent('body'), /Call Ana|Agree the window/, "no internal note on the customer's page");
    await checkPage(t, customer, 'portal-plan-proposed');

    await phone.fill('#counter-start', '2026-12-13T06:00');
    await phone.fill('#counter-end', '2026-12-13T03:00');
    await phone.fill('#counter-comment', 'The 13th suits us better.');
    await submit(phone, 'text=Send these times');
    t.match(
      await phone.textContent('#counter-error'),
      /The end must be after the start \(both in Europe\/Madrid\)/,
      'the error says what to fix',
    );
    t.equal(await phone.inputValue('#counter-comment'), 'The 13th suits us better.', 'and keeps what was typed');
    await checkPage(t, customer, 'portal-plan-counter-refused');
    await phone.fill('#counter-start', '2026-12-13T03:00');
    await phone.fill('#counter-end', '2026-12-13T06:00');
    await submit(phone, 'text=Send these times');
    t.match(await phone.textContent('.flash.ok'), /sent to the vendor/);
    t.match(
      await phone.textContent('main'),
      /You proposed other times.*Sunday 13 December 2026, 03:00–06:00.*The 13th suits us better/s,
      'what the customer proposed',
    );
    await checkPage(t, customer, 'portal-plan-countered');
  });

  await t.test('support sees the counter-proposal and proposes again; the history says what changed', async (t) => {
    await page.goto(`${base}/staff/plans/${planId}`);
    t.match(await page.textContent('main'), /The customer proposed other times.*The 13th suits us better/s);
    t.equal(await page.inputValue('#once-start-0'), '2026-12-13T03:00', "the editor holds the customer's window");
    await checkPage(t, staff, 'console-plan-countered');
    await submit(page, 'button[value=propose]');
    t.match(await page.textContent('main'), /Version 2.*Proposed maintenance windows/s, 'version 2 lists the windows as changed');
  });

  await t.test('the customer confirms, naming the maintenance staff', async (t) => {
    const phone = customer.page;
    await phone.goto(`${base}/portal/plans/${planId}`);
    await phone.fill('#maintainer-name', '   ');
    await phone.fill('#maintainer-phone', '+34 600 000 000');
    await submit(phone, 'text=Confirm this window');
    t.match(await phone.textContent('#confirm-error'), /Name the maintenance staff/, 'a missing name is explained');
    await phone.fill('#maintainer-name', 'Ana García');
    await phone.fill('#maintainer-phone', '+34 600 000 000');
    await submit(phone, 'text=Confirm this window');
    t.match(await phone.textContent('.flash.ok'), /window is confirmed/);
    t.match(await phone.textContent('main'), /Ana García/);
    await checkPage(t, customer, 'portal-plan-confirmed');
  });

  await t.test('the devices roll out to committed and the console follows without a reload', async (t) => {
    await page.goto(`${base}/staff/plans/${planId}`);
    t.ok(await page.locator('script[src="/assets/live.js"]').count(), 'the live page loads the polling script');
    for (const device of ['emu-0001', 'emu-0002', 'emu-0003']) await fixture.report(device, planId, agentStates);
    await page.waitForFunction(() => /3\/3 done/.test(document.querySelector('#live-rollout')?.textContent ?? ''), undefined, {
      timeout: 20_000,
    });
    t.pass('the rollout view updated itself');
    await page.reload();
    t.match(await page.textContent('h1'), /completed/);
    await checkPage(t, staff, 'console-plan-completed');
    await page.goto(`${base}/staff/devices/emu-0001`);
    t.match(await page.textContent('main'), /committed/);
    await checkPage(t, staff, 'console-device');
    await page.goto(`${base}/staff/devices?version=2.1.0`);
    t.equal(await page.locator('main tbody tr').count(), 3, 'the version filter');
    await checkPage(t, staff, 'console-devices');
    await page.goto(`${base}/staff/releases/${fixture.release.id}`);
    t.match(await page.textContent('main'), /Downloaded by\s*3 devices/, 'the release counts the devices that downloaded it');
    await customer.page.goto(`${base}/portal/devices`);
    await checkPage(t, customer, 'portal-devices');
  });
});
