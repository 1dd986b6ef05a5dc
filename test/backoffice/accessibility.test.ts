/**
 * axe-core on every back-office screen in real Chromium, with data in each (routes, keys, a
 * profile and a request, a key pair, a verifier, traffic), folded sections opened: no serious or
 * critical violation (labels, names, contrast, landmarks, ARIA). The counts by impact per screen
 * are printed at the end of the run.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { launchBrowser } from './browser.js';
import { SCREENS, openScreen, seedScreens } from './screens.js';
import { blocking, countByImpact, describeViolations, runAxe, summaryTable, type AxeViolation } from './axe.js';

describe('Back office: accessibility (axe-core in real Chromium)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let browser: Browser;
  let page: Page;
  let requestId = '';
  const results = new Map<string, AxeViolation[]>();

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({ backOffice: true });
    requestId = await seedScreens(gw, upstream.url);
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  });
  after(async () => {
    if (results.size > 0)
      console.log(`axe-core: elements in violation by impact, per screen\n${summaryTable(results)}`);
    await browser?.close();
    await gw?.close();
    await upstream?.close();
  });

  for (const screen of SCREENS) {
    it(`has no serious or critical accessibility violation: ${screen.name}`, async (t) => {
      await openScreen(page, gw.adminUrl, screen, requestId);
      const violations = await runAxe(page, screen.include);
      results.set(screen.name, violations);
      await screen.cleanUp?.(page);
      const counts = countByImpact(violations);
      t.diagnostic(
        `${screen.name}: critical ${counts.critical}, serious ${counts.serious}, moderate ${counts.moderate}, minor ${counts.minor}${violations.length ? `\n${describeViolations(violations)}` : ''}`,
      );
      assert.deepEqual(
        blocking(violations).map((v) => v.id),
        [],
        describeViolations(blocking(violations)),
      );
    });
  }
});
