/**
 * The auditor's page: verify the audit chain; ε spent over time per dataset (from the log's
 * charge entries, fetched with the API's filters); and the log itself, filtered and paged by the
 * server (GET /v1/audit with actor, action, dataset, outcome, from, to and the cursor), newest
 * first.
 */
import { get } from '../api.ts';
import { type Chart, stepChart } from '../charts.ts';
import { announce, field, fill, h, num, table, when } from '../dom.ts';
import { errorBox } from '../errors.ts';
import { Disposer, type Page } from '../page.ts';
import type { AuditEntry, AuditPage, Verify } from '../types.ts';

const PAGE = 1000;
const MAX_PAGES = 50;
/** Entries per page of the log table. */
export const LOG_PAGE = 50;
const OUTCOMES = ['answered', 'cached', 'refused', 'failed', 'ok', 'denied'];
const ACTIONS = ['query', 'metric.release', 'access.create', 'access.approve', 'access.deny', 'access.revoke', 'access.cancel', 'access.expire', 'access.review', 'access.raw_query', 'access.reveal', 'budget.topup'];

/**
 * An entry that spent ε: the `charged` stage of a query or a metric release (outcome `ok`). The
 * `answered` entry that follows repeats the amount, and a top-up adds budget rather than spending it.
 */
const spends = (e: AuditEntry): boolean => (e.action === 'query' || e.action === 'metric.release') && e.outcome === 'ok' && (e.epsilon ?? 0) > 0;

/** The charge entries only (the server filters), oldest first. */
async function readCharges(): Promise<AuditEntry[]> {
  const all: AuditEntry[] = [];
  let after = 0;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await get<AuditPage>(`/v1/audit?action=query,metric.release&outcome=ok&after=${after}&limit=${PAGE}`);
    all.push(...page.entries);
    if (page.next === null) break;
    after = page.next;
  }
  return all;
}

export const auditorPage: Page = (root) => {
  const life = new Disposer();
  let chart: Chart | undefined;
  life.add(() => chart?.destroy());
  let charges: AuditEntry[] = [];
  /** Cursors of the pages shown so far: cursors[i] is the `before` of page i (undefined: the newest). */
  let cursors: (number | undefined)[] = [undefined];
  let pageIndex = 0;

  const verifyOut = h('div', { id: 'verify-result', role: 'status' });
  const verifyBtn = h('button', { type: 'button', id: 'verify' }, 'Verify the chain');
  verifyBtn.addEventListener('click', () => {
    verifyOut.replaceChildren(h('p', { class: 'muted' }, 'Verifying…'));
    get<Verify>('/v1/audit/verify').then(
      (v) => {
        const text = v.ok ? `Chain intact: ${v.entries} entries, head ${v.head.slice(0, 16)}…` : `Chain broken at entry ${v.firstBadSeq}: ${v.reason}`;
        verifyOut.replaceChildren(h('p', { class: v.ok ? 'ok' : 'error' }, text));
        announce(text);
      },
      (err: unknown) => verifyOut.replaceChildren(errorBox(err)),
    );
  });

  const chartHost = h('div', { id: 'spent-chart' });
  const actor = h('input', { id: 'filter-actor', type: 'text', placeholder: 'any', autocomplete: 'off', spellcheck: false });
  const action = h('input', { id: 'filter-action', type: 'text', placeholder: 'any', list: 'audit-actions', autocomplete: 'off', spellcheck: false });
  const dataset = h('input', { id: 'filter-dataset', type: 'text', placeholder: 'any', autocomplete: 'off', spellcheck: false });
  const outcome = h('select', { id: 'filter-outcome' }, h('option', { value: '' }, 'any'), OUTCOMES.map((o) => h('option', { value: o }, o)));
  const from = h('input', { id: 'filter-from', type: 'datetime-local' });
  const to = h('input', { id: 'filter-to', type: 'datetime-local' });
  const logBox = h('div', { id: 'audit-log' }, h('p', { class: 'muted' }, 'Loading…'));
  const prevBtn = h('button', { type: 'button', class: 'secondary', id: 'audit-prev' }, '← Newer');
  const nextBtn = h('button', { type: 'button', class: 'secondary', id: 'audit-next' }, 'Older →');
  const pageInfo = h('span', { id: 'audit-page', role: 'status' });

  function query(before: number | undefined): string {
    const q = new URLSearchParams({ order: 'desc', limit: String(LOG_PAGE) });
    if (before !== undefined) q.set('before', String(before));
    for (const [k, el] of [['actor', actor], ['action', action], ['dataset', dataset], ['outcome', outcome]] as const) if (el.value.trim() !== '') q.set(k, el.value.trim());
    for (const [k, el] of [['from', from], ['to', to]] as const) if (el.value !== '') q.set(k, new Date(el.value).toISOString());
    return `/v1/audit?${q}`;
  }

  async function loadPage(index: number): Promise<void> {
    let page: AuditPage;
    const url = query(cursors[index]);
    try {
      page = await get<AuditPage>(url);
    } catch (err: unknown) {
      fill(logBox, errorBox(err));
      return;
    }
    pageIndex = index;
    cursors = cursors.slice(0, index + 1);
    if (page.next !== null) cursors.push(page.next);
    prevBtn.disabled = index === 0;
    nextBtn.disabled = page.next === null;
    const first = page.entries[0]?.seq;
    const last = page.entries.at(-1)?.seq;
    pageInfo.textContent = page.entries.length === 0 ? 'No entry matches.' : `Page ${index + 1}: entries #${first} to #${last}${page.next === null ? ' (the oldest match)' : ''}.`;
    renderLog(page.entries);
    logBox.dataset.query = url; // what is shown (tests wait on it)
  }

  function renderLog(entries: readonly AuditEntry[]): void {
    fill(
      logBox,
      table(
        'Audit log, newest first',
        ['#', 'At', 'Actor', 'Action', 'Dataset', 'Outcome', 'ε', 'δ', 'SQL (redacted) / request'],
        entries.map((e) => [
          String(e.seq),
          when(e.at),
          e.actor,
          e.action,
          e.dataset ?? '–',
          h('span', { class: `status ${e.outcome}` }, e.outcome, e.code ? ` (${e.code})` : ''),
          e.epsilon === null || e.epsilon === 0 ? '–' : num(e.epsilon),
          e.delta === null || e.delta === 0 ? '–' : num(e.delta),
          e.sqlRedacted !== null ? h('code', { class: 'sql-cell' }, e.sqlRedacted) : e.requestId !== null ? h('code', {}, e.requestId) : '–',
        ]),
        { id: 'audit-table' },
      ),
    );
  }

  function renderChart(): void {
    chart?.destroy();
    chart = undefined;
    chartHost.replaceChildren();
    charges = charges.filter(spends);
    if (charges.length === 0) {
      chartHost.append(h('p', { class: 'muted' }, 'No ε spent yet.'));
      return;
    }
    const names = [...new Set(charges.map((e) => e.dataset ?? '–'))].sort();
    const totals = new Map(names.map((n) => [n, 0]));
    const times: number[] = [];
    const series = names.map((n) => ({ label: n, values: [] as number[] }));
    for (const e of charges) {
      totals.set(e.dataset ?? '–', totals.get(e.dataset ?? '–')! + (e.epsilon ?? 0));
      const t = new Date(e.at).getTime();
      // uPlot needs increasing x: entries at the same millisecond share a point.
      if (times.length > 0 && t <= times.at(-1)!) series.forEach((s, i) => (s.values[s.values.length - 1] = totals.get(names[i]!)!));
      else {
        times.push(t);
        series.forEach((s, i) => s.values.push(totals.get(names[i]!)!));
      }
    }
    chart = stepChart(chartHost, 'ε spent over time (cumulative, all principals and metrics)', times, series);
    chartHost.append(table('ε spent per dataset', ['Dataset', 'ε spent'], names.map((n) => [n, num(totals.get(n)!)]), { id: 'spent-table' }));
  }

  async function load(): Promise<void> {
    try {
      charges = await readCharges();
      renderChart();
    } catch (err: unknown) {
      fill(chartHost, errorBox(err));
    }
    await loadPage(0);
  }
  const filtersForm = h(
    'form',
    { id: 'audit-filters', class: 'row filters' },
    field('Actor', actor),
    field('Action', action),
    field('Dataset', dataset),
    field('Outcome', outcome),
    field('From', from),
    field('To', to),
    h('button', { type: 'submit', id: 'audit-apply' }, 'Search'),
    h('datalist', { id: 'audit-actions' }, ACTIONS.map((a) => h('option', { value: a }))),
  );
  filtersForm.addEventListener('submit', (e) => {
    e.preventDefault();
    cursors = [undefined];
    void loadPage(0);
  });
  outcome.addEventListener('change', () => filtersForm.requestSubmit());
  prevBtn.addEventListener('click', () => void loadPage(Math.max(0, pageIndex - 1)));
  nextBtn.addEventListener('click', () => void loadPage(pageIndex + 1));

  fill(
    root,
    h('h1', { tabindex: -1 }, 'Auditor'),
    h('section', { 'aria-labelledby': 'verify-h' }, h('h2', { id: 'verify-h' }, 'Chain'), h('p', {}, 'Every entry is hash-chained to the one before; verification recomputes the whole chain on the server.'), verifyBtn, verifyOut),
    h('section', { 'aria-labelledby': 'spent-h' }, h('h2', { id: 'spent-h' }, 'ε spent per dataset'), chartHost),
    h(
      'section',
      { 'aria-labelledby': 'log-h' },
      h('h2', { id: 'log-h' }, 'Audit log'),
      filtersForm,
      h('div', { class: 'pager' }, prevBtn, nextBtn, pageInfo, h('button', { type: 'button', class: 'secondary', onclick: () => void load() }, 'Reload')),
      logBox,
    ),
  );
  void load();
  return life.dispose;
};
