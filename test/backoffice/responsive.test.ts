/**
 * The back office from a phone to a wide screen, in real Chromium at 390×844, 1280×800 and
 * 1920×1080: every screen fits its width (the page never scrolls sideways), the navigation is
 * reachable (on a phone behind the menu button, opened from the keyboard; wider, on one line) and
 * axe-core finds no serious or critical violation at any width. One browser page and one gateway
 * walk the widths (`setViewportSize`), as a user resizing a window would. With
 * PORTCULLIS_SCREENSHOTS set, the dashboard, the designer and an editor are photographed at each
 * width (`dashboard-390.png`…).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { launchBrowser } from './browser.js';
import { logIn, shot } from './ui-helpers.js';
import { blocking, describeViolations, runAxe } from './axe.js';
import { SCREENS, openScreen, seedScreens } from './screens.js';

const VIEWPORTS = [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
];

const NAV_LINKS = [
  'Dashboard',
  'Routes',
  'Global plugins',
  'API keys',
  'OAuth2 grants',
  'Access requests',
  'Authorization profiles',
  'Key pairs',
  'JWT verifiers',
  'Import / export',
];

/** How far the page reaches past the viewport's right edge, and the outermost elements that do. */
function horizontalOverflow(page: Page): Promise<{ overflow: number; culprits: string[] }> {
  return page.evaluate(() => {
    const { window, document } = globalThis as any;
    const width: number = window.innerWidth;
    const beyond = (el: any) => el.getBoundingClientRect().right > width + 0.5;
    const culprits = ([...document.body.querySelectorAll('*')] as any[])
      .filter((el) => beyond(el) && !(el.parentElement && beyond(el.parentElement)))
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).replace(/ /g, '.')}` : ''}`);
    return { overflow: (document.documentElement.scrollWidth as number) - width, culprits };
  });
}

/** The element that has the focus, by its text. */
const focusedText = (page: Page) =>
  page.evaluate(() => ((globalThis as any).document.activeElement?.textContent?.trim() as string | undefined) ?? '');

/** The main navigation's links, all visible, focusable and on one line. */
async function assertNavigationInline(page: Page): Promise<void> {
  const nav = page.getByRole('navigation', { name: 'Main' });
  assert.equal(await page.getByRole('button', { name: 'Menu' }).isVisible(), false, 'no menu button on a wide screen');
  const tops = new Set<number>();
  for (const name of NAV_LINKS) {
    const link = nav.getByRole('link', { name, exact: true });
    assert.ok(await link.isVisible(), `${name} is visible`);
    tops.add(Math.round((await link.boundingBox())!.y));
    await link.focus();
    assert.equal(await focusedText(page), name);
  }
  assert.equal(tops.size, 1, `the navigation is on one line (link tops: ${[...tops].join(', ')})`);
  const clipped = await nav.evaluate((el) => el.scrollWidth - el.clientWidth);
  assert.equal(clipped, 0, 'no link is pushed out of the navigation');
}

/** On a phone: the menu button opens the navigation from the keyboard, Escape closes it, a link follows. */
async function assertNavigationMenu(page: Page): Promise<void> {
  const menu = page.getByRole('button', { name: 'Menu' });
  const nav = page.getByRole('navigation', { name: 'Main' });
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  assert.equal(await nav.getByRole('link', { name: 'Routes' }).isVisible(), false, 'folded until asked for');
  await menu.focus();
  await page.keyboard.press('Enter');
  assert.equal(await menu.getAttribute('aria-expanded'), 'true');
  for (const name of NAV_LINKS) assert.ok(await nav.getByRole('link', { name, exact: true }).isVisible(), name);
  await page.keyboard.press('Tab');
  assert.equal(await focusedText(page), 'Dashboard', 'Tab goes from the menu button to the first link');
  for (const name of NAV_LINKS.slice(1)) {
    await page.keyboard.press('Tab');
    assert.equal(await focusedText(page), name);
  }
  const violations = blocking(await runAxe(page, '.topbar'));
  assert.deepEqual(
    violations.map((v) => v.id),
    [],
    describeViolations(violations),
  );
  assert.equal((await horizontalOverflow(page)).overflow, 0, 'the open menu fits the screen');
  await page.keyboard.press('Escape');
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  assert.equal(await focusedText(page), 'Menu', 'Escape gives the focus back to the menu button');
  await menu.click();
  await nav.getByRole('link', { name: 'Routes' }).click();
  await page.getByRole('heading', { level: 1, name: 'Routes' }).waitFor();
  assert.equal(await menu.getAttribute('aria-expanded'), 'false', 'following a link folds the menu');
}

describe('Back office: from a phone to a wide screen (390, 1280 and 1920 px in real Chromium)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let browser: Browser;
  let page: Page;
  let requestId = '';

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({ backOffice: true });
    requestId = await seedScreens(gw, upstream.url);
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: VIEWPORTS[0]! })).newPage();
    await logIn(page, gw.adminUrl);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await upstream?.close();
  });

  for (const viewport of VIEWPORTS) {
    const at = `at ${viewport.width}×${viewport.height}`;
    it(`reaches every link of the navigation ${at}`, async () => {
      await page.setViewportSize(viewport);
      await page.goto(`${gw.adminUrl}/#/dashboard`);
      await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
      if (viewport.width < 1248) await assertNavigationMenu(page);
      else await assertNavigationInline(page);
    });

    for (const screen of SCREENS) {
      it(`fits without horizontal scrolling, no serious or critical axe violation ${at}: ${screen.name}`, async () => {
        await page.setViewportSize(viewport);
        await openScreen(page, gw.adminUrl, screen, requestId);
        const { overflow, culprits } = await horizontalOverflow(page);
        const reachable =
          screen.hash === null ||
          (await page.getByRole('button', { name: 'Menu' }).isVisible()) ||
          (await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Routes' }).isVisible());
        if (screen.shot) await shot(page, `${screen.shot}-${viewport.width}`);
        const violations = blocking(await runAxe(page, screen.include));
        await screen.cleanUp?.(page);
        assert.equal(overflow, 0, `the page scrolls sideways by ${overflow} px: ${culprits.join(', ')}`);
        assert.ok(reachable, 'the navigation or its menu button is on screen');
        assert.deepEqual(
          violations.map((v) => v.id),
          [],
          describeViolations(violations),
        );
      });
    }
  }
});
