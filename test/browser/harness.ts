// The browser tests' harness: one Chromium per test file (Debian's, driven by playwright-core),
// a context per signed-in user, and one check for every page visited — axe-core in the page
// (no serious or critical violation), no horizontal overflow, no CSP violation, at 1280 px and
// 390 px. With SLUICE_SCREENSHOTS=DIR a screenshot of every page goes there (never into the
// repository); without it none is taken: full-page PNGs at two widths were much of these files'
// CPU in CI, where nobody looks at them.
import type { Test } from 'tap';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const noBrowser = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath} (.ci/run installs it)`;
const screenshots = process.env.SLUICE_SCREENSHOTS;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export const widths = [1280, 390] as const;

type Tap = Pick<Test, 'teardown' | 'same' | 'ok'>;

export async function launch(t: Tap): Promise<Browser> {
  // launch() gives every run a fresh temporary profile (its own --user-data-dir).
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  t.teardown(() => browser.close());
  if (screenshots) mkdirSync(screenshots, { recursive: true });
  return browser;
}

export interface Visitor {
  context: BrowserContext;
  page: Page;
  cspErrors: string[];
}

/** A signed-in user in a context of their own (own cookies), with one page reused throughout. */
export async function signIn(
  browser: Browser,
  base: string,
  username: string,
  password: string,
  width: number = widths[0],
): Promise<Visitor> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const cspErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) cspErrors.push(message.text());
  });
  await page.goto(`${base}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/login')), page.click('button[type=submit]')]);
  return { context, page, cspErrors };
}

/** Clicks and waits for the page that the click loads (a link or a form's redirect). */
export async function submit(page: Page, selector: string): Promise<void> {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, so the page's strict CSP does not stop it.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            context: Document,
            options: object,
          ) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }>;
        };
      }
    ).axe;
    // The WCAG 2.1 A and AA rules: what "accessible" is held to, and a third of axe's full run.
    return (
      await axe.run(document, {
        resultTypes: ['violations'],
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      })
    ).violations;
  });
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id} (${violation.impact}) at ${violation.nodes
          .slice(0, 3)
          .map((node) => node.target.join(' '))
          .join(', ')}`,
    );
}

/** The page at both widths: accessible, not wider than the screen, no CSP report; screenshots kept when asked for. */
export async function checkPage(t: Tap, visitor: Visitor, name: string): Promise<void> {
  const { page } = visitor;
  const original = page.viewportSize() ?? { width: widths[0], height: 900 };
  for (const width of widths) {
    await page.setViewportSize({ width, height: 900 });
    const overflow = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
    t.ok(overflow.scroll <= overflow.inner, `${name} at ${width} px: no horizontal overflow (${overflow.scroll} <= ${overflow.inner})`);
    t.same(await seriousViolations(page), [], `${name} at ${width} px: no serious or critical accessibility violation`);
    if (screenshots) await page.screenshot({ path: join(screenshots, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(original);
  t.same(visitor.cspErrors.splice(0), [], `${name}: no CSP violation`);
}
