/**
 * The console's rough edges, in headless Chromium against a real service: tabs per role, the
 * refusal that stays until the next run or edit, the SQL editor's highlighting and completion,
 * the history panel, audit paging, and the dashboard chart of a single release. Waits are on
 * conditions (elements, data attributes), never on time.
 */
import path from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { timeRange } from '../../console/src/time-range.ts';
import { ARTIFACTS } from '../support/browser.ts';
import { type ConsoleRig, startConsoleRig } from '../support/console.ts';
import type { TestService } from '../support/service.ts';

describe('the console time axis', () => {
  it('puts one release mid-axis with an hour each side, and pads a span by 5%', () => {
    expect(timeRange([1000_000])).to.deep.equal([1000_000 - 3600, 1000_000 + 3600]);
    expect(timeRange([0, 36_000])).to.deep.equal([-1800, 37_800]);
    expect(timeRange([0, 100])).to.deep.equal([-60, 160]);
  });
});

describe('console usability in headless Chromium (pg)', function () {
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

  const signInWith = (credential: string, who: string): Promise<void> => rig!.signIn(credential, who);
  const signInAs = async (p: string): Promise<void> => signInWith(await svc!.token(p), p);
  const tabs = async (): Promise<string[]> => page.locator('#nav a').allInnerTexts();
  const sqlBox = () => page.getByLabel('SQL', { exact: true });

  it('shows each principal the tabs its roles allow', async () => {
    await signInAs('alice');
    expect(await tabs()).to.deep.equal(['Analyst', 'Dashboards']);
    await signInAs('bob');
    expect(await tabs()).to.deep.equal(['Approver']);
    await page.locator('h1', { hasText: 'Approver' }).waitFor();
    await signInAs('carol');
    expect(await tabs()).to.deep.equal(['Approver', 'Auditor', 'Reviews']);
    // An analyst who types #/auditor lands on a page it may use.
    await signInAs('alice');
    await page.goto(`${svc!.url}/#/auditor`);
    await page.locator('h1', { hasText: 'Analyst' }).waitFor();
    await signInWith('dpq_demo_dashboard_key', 'dash');
    expect(await tabs()).to.deep.equal(['Dashboards']);
  });

  it('the SQL editor highlights keywords and completes the schema names', async () => {
    await signInAs('alice');
    await page.locator('#schema', { hasText: 'patients' }).waitFor();
    await sqlBox().fill('');
    await sqlBox().pressSequentially('SELECT COUNT(*) FROM vis');
    const option = page.locator('.cm-tooltip-autocomplete li', { hasText: 'visits' }).first();
    await option.waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.cm-content', { hasText: 'FROM visits' }).waitFor();
    const colours = await page.evaluate<{ keyword: string | null; text: string }>(`(() => {
      const spans = [...document.querySelectorAll('#sql .cm-line span')];
      const keyword = spans.find((s) => s.textContent === 'SELECT');
      const line = document.querySelector('#sql .cm-line');
      return { keyword: keyword === undefined ? null : getComputedStyle(keyword).color, text: getComputedStyle(line).color };
    })()`);
    expect(colours.keyword).to.not.equal(null);
    expect(colours.keyword).to.not.equal(colours.text);
  });

  it('a BUDGET_EXHAUSTED refusal stays after the estimate that follows, until the next edit', async () => {
    await sqlBox().fill('SELECT region, COUNT(*) AS n FROM visits GROUP BY region');
    await page.getByLabel('ε (epsilon)').fill('0.5');
    await page.getByRole('button', { name: 'Run query' }).click();
    await page.locator('#answer-table').waitFor();
    await sqlBox().fill('SELECT sex, COUNT(*) AS n FROM patients GROUP BY sex');
    await page.locator('#estimate', { hasText: 'Would be refused' }).waitFor();
    const before = await page.locator('#estimate').getAttribute('data-done');
    await page.getByRole('button', { name: 'Run query' }).click();
    await page.locator('#query-error', { hasText: 'BUDGET_EXHAUSTED' }).waitFor();
    // The estimate run() schedules has come back, and the refusal is still there.
    await page.locator(`#estimate[data-done]:not([data-done="${before}"])`).waitFor();
    expect(await page.locator('#query-error').innerText()).to.contain('BUDGET_EXHAUSTED');
    await sqlBox().press('End');
    await sqlBox().pressSequentially(' ');
    await page.locator('#query-error', { hasText: 'BUDGET_EXHAUSTED' }).waitFor({ state: 'detached' });
    expect(await page.locator('#query-error').innerText()).to.equal('');
  });

  it('the history panel re-opens a past answer, free', async () => {
    const row = page.locator('#history-table tbody tr').first();
    await row.waitFor();
    const budget = await page.locator('#budget').innerText();
    const answered = await page.locator('#answer-table').count();
    await row.getByRole('button', { name: 'Open' }).click();
    await page.locator('#answer-summary', { hasText: 're-opened from your history' }).waitFor();
    expect(answered).to.equal(0); // the refusal above cleared the results; this answer came from the history
    expect(await page.locator('#answer-table tbody tr').count()).to.equal(4);
    expect(await page.locator('#answer-summary').innerText()).to.contain('cost nothing');
    expect(await page.locator('#budget').innerText()).to.equal(budget);
    await page.screenshot({ path: path.join(ARTIFACTS, 'analyst-history.png'), fullPage: true });
  });

  it('the dashboard chart of one release: a legend of the groups only', async () => {
    await page.getByRole('link', { name: 'Dashboards' }).click();
    const section = page.locator('section[data-metric="visits_by_region"]');
    await section.locator('figure.chart canvas').first().waitFor();
    expect(await section.locator('ul.legend li').allInnerTexts()).to.deep.equal(['north', 'south', 'east', 'west']);
    expect(await section.locator('.chart-note').innerText()).to.contain('noise interval');
  });

  it('the auditor pages through the log on the server, newest first', async () => {
    // Enough entries for more than one page: cached replays are audited and free.
    for (let i = 0; i < 60; i++) {
      await svc!.request('POST', '/v1/queries', { principal: 'alice', body: { sql: 'SELECT region, COUNT(*) AS n FROM visits GROUP BY region', epsilon: 0.5 } });
    }
    await signInAs('carol');
    await page.getByRole('link', { name: 'Auditor' }).click();
    await page.locator('#audit-log[data-query]').waitFor();
    const seqs = async (): Promise<number[]> => (await page.locator('#audit-table tbody tr td:nth-child(1)').allInnerTexts()).map(Number);
    const first = await seqs();
    expect(first.length).to.equal(50);
    expect([...first].sort((a, b) => b - a)).to.deep.equal(first);
    await page.getByRole('button', { name: 'Older →' }).click();
    await page.locator('#audit-log[data-query*="before="]').waitFor();
    const second = await seqs();
    expect(Math.max(...second)).to.be.lessThan(Math.min(...first));
    await page.getByRole('button', { name: '← Newer' }).click();
    await page.locator('#audit-log:not([data-query*="before="])').waitFor();
    expect(await seqs()).to.deep.equal(first);
    await page.getByLabel('Outcome').selectOption('cached');
    await page.locator('#audit-log[data-query*="outcome=cached"]').waitFor();
    expect(new Set(await page.locator('#audit-table tbody tr td:nth-child(6)').allInnerTexts())).to.deep.equal(new Set(['cached']));
    expect(problems).to.deep.equal([]);
  });
});
