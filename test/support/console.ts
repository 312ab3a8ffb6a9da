/**
 * What the console's browser suites share: a real service on PostgreSQL with a small analyst
 * budget (ε 0.6: one query at 0.5 fits, the second is refused), headless Chromium on it, and the
 * page errors collected (a CSP violation or a script error fails the suite; 4xx answers do not).
 */
import fs from 'node:fs';
import type { Page } from 'playwright-core';
import { ARTIFACTS, type Browser, browserRequired, findChromium, launchChromium } from './browser.ts';
import { policyDir } from './policy.ts';
import { startService, type TestService } from './service.ts';

export interface ConsoleRig {
  readonly svc: TestService;
  readonly browser: Browser;
  readonly page: Page;
  readonly problems: string[];
  /** Sign in by pasting `credential`; resolves once the header names `who` with its roles (from GET /v1/me). */
  signIn(credential: string, who: string): Promise<void>;
  close(): Promise<void>;
}

/** In a `before` hook: the rig, or a skipped suite where Chromium is missing outside CI. */
export async function startConsoleRig(ctx: Mocha.Context): Promise<ConsoleRig> {
  const chromium = findChromium();
  if (chromium === undefined) {
    if (browserRequired()) throw new Error('Chromium is missing (/usr/bin/chromium): apt-get install chromium');
    console.warn('    (skipped: no /usr/bin/chromium on this machine; CI installs it)');
    ctx.skip();
  }
  const dir = policyDir({ 'clinic.yaml': (t) => t.replace('analyst: { epsilon: 10, delta: 1.0e-6 }', 'analyst: { epsilon: 0.6, delta: 1.0e-6 }') });
  const svc = await startService('pg', { env: { DPQ_POLICY_DIR: dir } });
  const browser = await launchChromium(chromium!);
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return {
    svc,
    browser,
    page,
    problems,
    async signIn(credential, who) {
      await page.goto(`${svc.url}/`);
      if (await page.locator('#signout').isVisible()) await page.click('#signout');
      await page.getByLabel('Bearer token or API key').fill(credential);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('#who', { hasText: `Signed in as ${who} (` }).waitFor();
    },
    async close() {
      await browser.close();
      await svc.stop();
    },
  };
}
