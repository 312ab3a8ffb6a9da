/**
 * The auditors' review page in headless Chromium against a real service on PostgreSQL: the access
 * review of the period (an unused grant flagged, a break-glass grant awaiting review) and the
 * alerts raised. A screenshot goes to test/artifacts/console/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { accessContext } from '../../src/access/context.ts';
import { ARTIFACTS, type Browser, browserRequired, findChromium, launchChromium } from '../support/browser.ts';
import { policyDir } from '../support/policy.ts';
import { startService, type TestService } from '../support/service.ts';

describe('web console: the review page (pg)', function () {
  this.timeout(120_000);
  let svc: TestService | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const problems: string[] = [];

  before(async function () {
    const chromium = findChromium();
    if (chromium === undefined) {
      if (browserRequired()) throw new Error('Chromium is missing (/usr/bin/chromium): apt-get install chromium');
      this.skip();
    }
    const dir = policyDir({}, { 'alerts.yaml': 'alerts:\n  - { name: refusal-storm, when: { refusalsPerHour: 1 } }\n' });
    svc = await startService('pg', { env: { DPQ_POLICY_DIR: dir } });
    browser = await launchChromium(chromium!);
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await svc?.stop();
  });

  it('shows grants with their use, break-glass awaiting review, and the alerts', async () => {
    const s = svc!;
    const body = { kind: 'raw', dataset: 'clinic', columns: ['visits.diagnosis'], justification: 'INC-4411: duplicate invoices for one patient, need to find the rows', durationMinutes: 30 };
    expect((await s.request('POST', '/v1/access-requests', { principal: 'sam', body })).status).to.equal(201);
    expect((await s.request('POST', '/v1/access-requests', { principal: 'root', body: { ...body, columns: ['patients.ssn'], breakGlass: true, durationMinutes: 15 } })).status).to.equal(201);
    for (let i = 0; i < 2; i++) expect((await s.request('POST', '/v1/queries', { principal: 'alice', body: { sql: 'SELECT * FROM visits' } })).status).to.equal(422);
    await accessContext(s.runtime).alerts.idle();

    await page.goto(`${s.url}/`);
    await page.getByLabel('Bearer token or API key').fill(await s.token('carol'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#who', { hasText: 'Signed in as carol' }).waitFor();
    await page.goto(`${s.url}/#/reviews`);
    await page.locator('#review-grants').waitFor();
    expect(await page.locator('#review-grants tr', { hasText: 'sam' }).innerText()).to.include('unused');
    expect(await page.locator('#review-break-glass').innerText()).to.include('root').and.include('awaiting');
    expect(await page.locator('#review-policy').innerText()).to.include('Roles never exercised');
    await page.locator('#alerts-table').waitFor();
    expect(await page.locator('#alerts-table').innerText()).to.include('refusal-storm').and.include('alice');
    await page.screenshot({ path: path.join(ARTIFACTS, 'reviews.png'), fullPage: true });
    expect(problems).to.deep.equal([]);
  });
});
