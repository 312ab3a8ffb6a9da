/**
 * The web console end to end in headless Chromium, against a real service on PostgreSQL: an analyst
 * runs a query and sees the chart, hits the budget and files the pre-filled request (and a raw one
 * with a pii column); approvers approve both; the analyst runs a raw query and sees masked columns;
 * an auditor verifies the chain. Screenshots of every page go to test/artifacts/console/.
 */
import path from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { ARTIFACTS } from '../support/browser.ts';
import { type ConsoleRig, startConsoleRig } from '../support/console.ts';
import type { TestService } from '../support/service.ts';

interface Req {
  id: string;
  kind: string;
  status: string;
}

describe('web console in headless Chromium (pg)', function () {
  this.timeout(120_000);
  let rig: ConsoleRig | undefined;
  let svc: TestService | undefined;
  let page: Page;
  let problems: string[] = [];

  before(async function () {
    rig = await startConsoleRig(this);
    ({ svc, page, problems } = rig);
  });
  after(async () => rig?.close());

  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  const signInAs = async (principal: string): Promise<void> => rig!.signIn(await svc!.token(principal), principal);

  const requestsOf = async (principal: string): Promise<Req[]> =>
    ((await (await svc!.request('GET', '/v1/access-requests?mine=true', { principal })).json()) as { requests: Req[] }).requests;

  it('serves the page with a strict CSP: no inline script, everything from the bundle', async () => {
    const res = await svc!.request('GET', '/');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).to.contain("script-src 'self'");
    expect(csp).to.contain("script-src-attr 'none'");
    const html = await res.text();
    expect(html).to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).to.not.match(/\son[a-z]+=/i);
    expect((await svc!.request('GET', '/demo/tokens')).status).to.equal(404); // not embedded demo mode
  });

  it('analyst: signs in by pasting a token, sees the estimate, runs a query and sees the chart', async () => {
    await page.goto(`${svc!.url}/`);
    await shot('signin');
    await signInAs('alice');
    await page.locator('#schema', { hasText: 'patients' }).waitFor();
    await page.getByLabel('SQL', { exact: true }).fill('SELECT region, COUNT(*) AS visits, AVG(cost) FROM visits GROUP BY region');
    await page.getByLabel('ε (epsilon)').fill('0.5');
    // The estimate follows the typing: wait for the one of this SQL (the sample query's came first).
    await page.locator('#estimate', { hasText: /visits ± [\d.]+ at 95%/ }).waitFor();
    expect(await page.locator('#estimate').innerText()).to.contain('costs ε 0.5');
    await page.getByRole('button', { name: 'Run query' }).click();
    await page.locator('#answer-table').waitFor();
    expect(await page.locator('#answer-table tbody tr').count()).to.equal(4);
    await page.locator('#chart-host figure.chart canvas').first().waitFor();
    expect(await page.locator('#chart-host figure.chart').getAttribute('aria-label')).to.match(/^visits with its 95% noise interval: north \d+/);
    expect(await page.locator('#budget').innerText()).to.contain('0.5 spent of 0.6');
    await shot('analyst');
  });

  it('analyst: a refused construct is shown at its position in the SQL', async () => {
    await page.getByLabel('SQL', { exact: true }).fill('SELECT region, COUNT(*) FROM visits GROUP BY region LIMIT 2 OFFSET abc');
    await page.locator('#query-error mark.sql-mark', { hasText: 'abc' }).waitFor();
    expect(await page.locator('#query-error').innerText()).to.contain('SQL_NOT_ALLOWED');
    expect(await page.locator('#query-error [data-position]').getAttribute('data-position')).to.equal(String('SELECT region, COUNT(*) FROM visits GROUP BY region LIMIT 2 OFFSET '.length));
  });

  it('analyst: hits the budget and files the pre-filled budget request, then a raw one with a pii column', async () => {
    await page.getByLabel('SQL', { exact: true }).fill('SELECT sex, COUNT(*) AS n FROM patients GROUP BY sex');
    await page.locator('#estimate', { hasText: 'Would be refused' }).waitFor();
    await page.getByRole('button', { name: 'Run query' }).click();
    await page.locator('#query-error', { hasText: 'BUDGET_EXHAUSTED' }).waitFor();
    // The form is filled from details.requestAccess.budget.
    expect(await page.locator('#req-kind-budget').isChecked()).to.equal(true);
    expect(Number(await page.locator('#req-epsilon').inputValue())).to.be.greaterThan(0);
    expect(await page.locator('#req-justification').inputValue()).to.contain('Privacy budget for dataset clinic is spent');
    await shot('analyst-budget-exhausted');
    await page.getByRole('button', { name: 'File request' }).click();
    await page.locator('#req-status', { hasText: 'filed: pending, needs 1 approval' }).waitFor();

    await page.getByRole('button', { name: 'Request access…' }).click();
    await page.locator('#req-kind-raw').check();
    await page.getByLabel('patients.ssn').check();
    await page.getByLabel('Justification').fill('INC-4411: duplicate invoices for one patient, need to find the rows');
    await page.getByLabel('Ticket (optional)').fill('INC-4411');
    await page.getByRole('button', { name: 'File request' }).click();
    await page.locator('#req-status', { hasText: 'filed: pending, needs 2 approval(s)' }).waitFor();
    await page.locator('#requests-table tbody tr').nth(1).waitFor();
    expect(await page.locator('#requests-table').innerText()).to.match(/pending/);
  });

  it('approvers: the queue shows the scope with pii highlighted; bob approves both, carol the raw one', async () => {
    const mine = await requestsOf('alice');
    const budget = mine.find((r) => r.kind === 'budget')!;
    const raw = mine.find((r) => r.kind === 'raw')!;

    await signInAs('bob');
    await page.locator('h1', { hasText: 'Approver' }).waitFor();
    const rawCard = page.locator(`article[data-request="${raw.id}"]`);
    await rawCard.waitFor();
    expect(await rawCard.locator('li.pii', { hasText: 'patients.ssn' }).count()).to.equal(1);
    expect(await rawCard.innerText()).to.contain('INC-4411: duplicate invoices');
    expect(await rawCard.innerText()).to.contain('60 min');
    await shot('approver-queue');

    await page.locator(`article[data-request="${budget.id}"]`).getByLabel('Comment or reason').fill('fine for this analysis');
    await page.locator(`article[data-request="${budget.id}"]`).getByRole('button', { name: 'Approve' }).click();
    await page.locator('#queue', { hasText: `${budget.id}: approved — now approved` }).waitFor();
    await rawCard.getByRole('button', { name: 'Approve' }).click();
    await page.locator('#queue', { hasText: `${raw.id}: approved — now pending (1/2 approvals)` }).waitFor();

    await signInAs('carol');
    await page.locator(`article[data-request="${raw.id}"]`).getByRole('button', { name: 'Approve' }).click();
    await page.locator('#queue', { hasText: `${raw.id}: approved — now approved (2/2 approvals)` }).waitFor();
    await page.locator('#grants-table', { hasText: raw.id }).waitFor();
    expect(await page.locator('#grants-table').innerText()).to.match(/59 min|1 h 0 min/);
    await shot('approver-grants');
  });

  it('analyst: the top-up lets the refused query run; a raw query shows masked columns marked', async () => {
    await signInAs('alice');
    // The proposed top-up pays for ten more queries like the refused one (ε 0.5): ε 5.
    await page.locator('#budget', { hasText: 'spent of 5.6' }).waitFor();
    await page.getByLabel('SQL', { exact: true }).fill('SELECT sex, COUNT(*) AS n FROM patients GROUP BY sex');
    await page.getByRole('button', { name: 'Run query' }).click();
    await page.locator('#answer-table').waitFor();

    await page.locator('#raw-form').waitFor();
    await page.getByLabel('Raw SQL').fill('SELECT patient_id, name, email, ssn, zip, birth_year FROM patients ORDER BY birth_year LIMIT 5');
    await page.getByRole('button', { name: 'Run raw query' }).click();
    await page.locator('#raw-table').waitFor();
    const headers = await page.locator('#raw-table thead th').allInnerTexts();
    expect(headers.find((h) => h.startsWith('name'))).to.contain('masked: redact');
    expect(headers.find((h) => h.startsWith('email'))).to.contain('masked: tokenize');
    expect(headers.find((h) => h.startsWith('zip'))).to.contain('masked: generalize');
    expect(headers.find((h) => h.startsWith('ssn'))).to.contain('clear (granted)');
    expect(headers.find((h) => h.startsWith('birth_year'))).to.not.contain('masked');
    expect(await page.locator('#raw-table tbody tr').count()).to.equal(5);
    expect(await page.locator('#raw-table tbody tr').first().innerText()).to.match(/tok_[0-9a-f]{32}/);
    await shot('analyst-raw');

    // At phone width the page reflows instead of scrolling sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).to.be.at.most(390);
    await shot('analyst-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('dashboards: the metric release and its history chart', async () => {
    await page.getByRole('link', { name: 'Dashboards' }).click();
    await page.locator('section[data-metric="visits_by_region"] figure.chart canvas').first().waitFor();
    expect(await page.locator('section[data-metric="visits_by_region"]').innerText()).to.match(/north/);
    await shot('dashboards');
  });

  it('auditor: filters the log, charts ε spent and verifies the chain', async () => {
    await signInAs('carol');
    await page.getByRole('link', { name: 'Auditor' }).click();
    await page.locator('#audit-table').waitFor();
    await page.locator('#spent-chart figure.chart canvas').first().waitFor();
    await page.getByLabel('Actor').fill('bob');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#audit-log[data-query*="actor=bob"]').waitFor();
    const actors = await page.locator('#audit-table tbody tr td:nth-child(3)').allInnerTexts();
    expect(actors.length).to.be.greaterThan(0);
    expect(new Set(actors)).to.deep.equal(new Set(['bob']));
    await page.getByLabel('Actor').fill('');
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page.locator('#verify-result', { hasText: 'Chain intact' }).waitFor();
    await shot('auditor');
    expect(problems).to.deep.equal([]);
  });
});
