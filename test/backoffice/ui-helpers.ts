/** What the back-office browser tests share: logging in, docs screenshots, form fields by JSON path. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_PASSWORD } from '../helpers/gateway.js';
import type { UpstreamHandler } from '../helpers/upstream.js';

// Screenshots for the docs are written when PORTCULLIS_SCREENSHOTS names a folder (npm run screenshots).
const SHOTS = process.env.PORTCULLIS_SCREENSHOTS;
export async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

export async function logIn(page: Page, adminUrl: string, password = ADMIN_PASSWORD): Promise<void> {
  await page.goto(`${adminUrl}/`);
  await page.waitForURL(/\/login/);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** The form field (or fieldset) drawn for a JSON path of the entity. */
export const path = (p: string) => `[data-path="${p}"]`;

/** An order service that answers without echoing the request (its credentials) back. */
export const orderService: UpstreamHandler = (_req, res, received) => {
  const payload = JSON.stringify({ order: received.url.slice(1), status: 'shipped' });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
};

/**
 * A page of a fresh browser context, logged in and on the dashboard. `beforeLogIn` attaches
 * listeners that must see the login too (requests made, dialogs).
 */
export async function loggedInPage(
  browser: Browser,
  adminUrl: string,
  options: { viewport?: { width: number; height: number }; beforeLogIn?: (page: Page) => void } = {},
): Promise<Page> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 900 } });
  const page = await context.newPage();
  options.beforeLogIn?.(page);
  await logIn(page, adminUrl);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  return page;
}
