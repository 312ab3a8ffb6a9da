/**
 * The analyst's page: budget gauges; the query editor beside the dataset's tables and columns, with
 * ε/mechanism/δ and the estimate (cost and ± accuracy) refreshed before running; results as a bar
 * chart with error bars and a table; SQL refusals shown at their position; a pre-filled access
 * request form on BUDGET_EXHAUSTED; my requests; and raw queries under an active raw grant.
 */
import { accessForm, prefillFrom } from '../access-form.ts';
import { ApiError, get, messageOf, post } from '../api.ts';
import { budgetGauges } from '../budget.ts';
import { barChart, type Chart } from '../charts.ts';
import { announce, field, fill, h, num, table, timeLeft, when } from '../dom.ts';
import { errorBox } from '../errors.ts';
import { Disposer, type Page } from '../page.ts';
import { sqlEditor } from '../editor.ts';
import type { AccessRequest, Accuracy, Dataset, DatasetBudget, Estimate, HistoryDetail, HistoryList, QueryAnswer, RawAnswer, Row } from '../types.ts';

/** What the answer view shows: a fresh answer, or one re-opened from the history. */
type Shown = Pick<QueryAnswer, 'columns' | 'rows' | 'accuracy'> & { readonly privacy: { readonly epsilon: number; readonly delta: number; readonly mechanism: string; readonly partitionSelection: string; readonly cached: boolean } };

/** A starting query for a dataset: counts by the first column with public values, if any. */
function sampleSql(d: Dataset): string {
  for (const [t, table] of Object.entries(d.tables)) {
    for (const [c, col] of Object.entries(table.columns)) {
      if (col.values !== undefined) return `SELECT ${c}, COUNT(*) AS n FROM ${t} GROUP BY ${c}`;
    }
  }
  const first = Object.keys(d.tables)[0] ?? 'table';
  return `SELECT COUNT(*) AS n FROM ${first}`;
}

const cell = (v: unknown): string => (v === null || v === undefined ? 'NULL' : typeof v === 'number' ? num(v, 8) : String(v));
const halfWidth = (a: Accuracy | undefined): number | null => (a?.ci === null || a?.ci === undefined ? null : Math.max(Math.abs(a.ci[0]), Math.abs(a.ci[1])));

function schemaList(d: Dataset, insert: (text: string) => void): HTMLElement {
  return h(
    'div',
    {},
    d.description === null ? null : h('p', { class: 'muted' }, d.description),
    Object.entries(d.tables).map(([t, table]) =>
      h(
        'details',
        { open: true },
        h('summary', {}, h('code', {}, t), h('span', { class: 'muted' }, ` unit: ${table.unit}`)),
        h(
          'ul',
          { class: 'columns' },
          Object.entries(table.columns).map(([c, col]) =>
            h(
              'li',
              { class: col.sensitivity === 'pii' ? 'pii' : '' },
              h('button', { type: 'button', class: 'link', title: `Insert ${c} into the SQL`, onclick: () => insert(c) }, c),
              h('span', { class: 'muted' }, ` ${col.type}`),
              col.bounds === undefined ? null : h('span', { class: 'muted' }, ` [${col.bounds.map(String).join(', ')}]`),
              col.sensitivity === 'none' ? null : h('span', { class: `badge ${col.sensitivity}` }, col.sensitivity),
              col.aggregate ? null : h('span', { class: 'badge' }, 'no aggregates'),
            ),
          ),
        ),
      ),
    ),
  );
}

export const analystPage: Page = (root) => {
  const life = new Disposer();
  let charts: Chart[] = [];
  life.add(() => charts.forEach((c) => c.destroy()));
  let datasets: Dataset[] = [];
  let myRequests: AccessRequest[] = [];

  const budgetBox = h('div', { id: 'budget' }, h('p', { class: 'muted' }, 'Loading…'));
  const schemaBox = h('div', { id: 'schema' });
  const datasetSel = h('select', { id: 'dataset' });
  const sql = sqlEditor({
    id: 'sql',
    labelledBy: 'sql-label',
    describedBy: 'sql-hint',
    onChange: () => {
      // An edit ends whatever refusal was shown for the previous text.
      queryError.replaceChildren();
      errorFrom = null;
      scheduleEstimate();
    },
    onRun: () => void run(),
  });
  /** Who put the message in #query-error: the estimate clears only its own. */
  let errorFrom: 'estimate' | 'run' | null = null;
  const epsilon = h('input', { id: 'epsilon', type: 'number', step: 'any', min: 0 });
  const mechanism = h('select', { id: 'mechanism' }, h('option', { value: 'laplace' }, 'Laplace'), h('option', { value: 'gaussian' }, 'Gaussian'));
  const delta = h('input', { id: 'delta', type: 'number', step: 'any', min: 0 });
  const estimateOut = h('output', { id: 'estimate', for: 'sql epsilon mechanism delta', 'aria-live': 'polite' });
  const queryError = h('div', { id: 'query-error' });
  const results = h('div', { id: 'results' });
  const requestHost = h('div', { id: 'request-host' }, h('p', { class: 'muted' }, 'Ask for more budget, or for time-boxed access to rows.'));
  const requestsBox = h('div', { id: 'my-requests' });
  const historyBox = h('div', { id: 'history' });
  const rawBox = h('div', { id: 'raw' });

  const current = (): Dataset | undefined => datasets.find((d) => d.name === datasetSel.value);
  const body = (): Record<string, unknown> => {
    const b: Record<string, unknown> = { sql: sql.value(), dataset: datasetSel.value, mechanism: mechanism.value };
    if (epsilon.value !== '') b.epsilon = Number(epsilon.value);
    if (delta.value !== '') b.delta = Number(delta.value);
    return b;
  };

  const insert = (text: string): void => sql.insert(text);

  function showDataset(): void {
    const d = current();
    if (d === undefined) return;
    fill(schemaBox, schemaList(d, insert));
    sql.setSchema(Object.fromEntries(Object.entries(d.tables).map(([t, table]) => [t, Object.keys(table.columns)])));
    epsilon.value = String(d.defaults.epsilon);
    epsilon.min = String(d.limits.minEpsilon);
    epsilon.max = String(d.limits.maxEpsilon);
    mechanism.value = d.defaults.mechanism;
    delta.value = String(d.defaults.delta);
    if (sql.value().trim() === '') sql.setValue(sampleSql(d));
    void runEstimate(); // at once: nothing is being typed yet
  }

  // The estimate: free, reads no data — refreshed as the query or its parameters change.
  let estimateTimer: number | undefined;
  let estimateSeq = 0;
  function scheduleEstimate(): void {
    window.clearTimeout(estimateTimer);
    estimateTimer = window.setTimeout(runEstimate, 350);
  }
  life.add(() => window.clearTimeout(estimateTimer));
  async function runEstimate(): Promise<void> {
    if (sql.value().trim() === '' || datasetSel.value === '') return;
    const seq = ++estimateSeq;
    const text = sql.value();
    try {
      const e = await post<Estimate>('/v1/queries/estimate', body());
      if (seq !== estimateSeq) return;
      estimateOut.dataset.done = String(seq); // tests wait on this, not on time
      if (errorFrom === 'estimate') {
        queryError.replaceChildren();
        errorFrom = null;
      }
      const cols = Object.entries(e.accuracy).map(([c, a]) => {
        const hw = halfWidth(a);
        return h('li', {}, h('code', {}, c), hw === null ? ` — ${'note' in a ? a.note : 'no closed-form interval'}` : ` ± ${num(hw)} at ${Math.round(a.confidence * 100)}%`);
      });
      fill(
        estimateOut,
        h('p', {}, h('strong', {}, 'Estimate: '), `costs ε ${num(e.epsilon)}, δ ${num(e.delta)} (${e.mechanism}); you have ε ${num(e.budget.epsilon.remaining)} left.`),
        cols.length === 0 ? null : h('ul', { class: 'compact' }, cols),
        e.allowed ? null : h('p', { class: 'warn' }, `Would be refused: ${e.reason ?? 'not allowed'}.`),
      );
    } catch (err: unknown) {
      if (seq !== estimateSeq) return;
      estimateOut.dataset.done = String(seq);
      estimateOut.replaceChildren(h('p', { class: 'muted' }, 'No estimate for this query.'));
      if (err instanceof ApiError && (err.code === 'SQL_NOT_ALLOWED' || err.code === 'SQL_SYNTAX' || err.code === 'INVALID_REQUEST') && errorFrom !== 'run') {
        queryError.replaceChildren(errorBox(err, text));
        errorFrom = 'estimate';
      }
    }
  }

  function showAnswer(a: Shown, from?: { id: string; at: string }): void {
    charts.forEach((c) => c.destroy());
    charts = [];
    const measured = a.columns.filter((c) => a.accuracy[c] !== undefined);
    const keys = a.columns.filter((c) => a.accuracy[c] === undefined);
    const labels = a.rows.map((r) => (keys.length === 0 ? 'all' : keys.map((k) => cell(r[k])).join(' / ')));
    const chartHost = h('div', { id: 'chart-host' });
    const pick = h('select', { id: 'chart-column' }, measured.map((c) => h('option', { value: c }, c)));
    const draw = (): void => {
      charts.forEach((c) => c.destroy());
      chartHost.replaceChildren();
      const col = pick.value;
      if (col === '') return;
      const ci = a.accuracy[col]?.ci ?? null;
      const values = a.rows.map((r) => Number(r[col]));
      charts = [
        barChart(
          chartHost,
          `${col}${ci === null ? '' : ` with its ${Math.round((a.accuracy[col]?.confidence ?? 0.95) * 100)}% noise interval`}`,
          labels,
          values,
          values.map((v) => (ci === null ? null : v + ci[0])),
          values.map((v) => (ci === null ? null : v + ci[1])),
        ),
      ];
    };
    pick.addEventListener('change', draw);
    const p = a.privacy;
    fill(
      results,
      h(
        'p',
        { id: 'answer-summary' },
        from === undefined
          ? `${a.rows.length} row(s). Charged ε ${num(p.epsilon)}, δ ${num(p.delta)} (${p.mechanism}, ${p.partitionSelection} groups)${p.cached ? ' — a cached answer, free' : ''}.`
          : `${a.rows.length} row(s), re-opened from your history (${from.id}, answered ${when(from.at)}): reading it again cost nothing. It was charged ε ${num(p.epsilon)} (${p.mechanism}).`,
      ),
      measured.length > 1 ? field('Chart column', pick) : null,
      chartHost,
      table(
        'Answer (noisy values; ± is the noise interval)',
        a.columns.map((c) => c),
        a.rows.map((r) =>
          a.columns.map((c) => {
            const hw = halfWidth(a.accuracy[c]);
            return hw === null ? cell(r[c]) : [cell(r[c]), h('span', { class: 'muted' }, ` ± ${num(hw)}`)];
          }),
        ),
        { id: 'answer-table' },
      ),
    );
    draw();
  }

  async function run(): Promise<void> {
    const text = sql.value();
    queryError.replaceChildren();
    errorFrom = null;
    results.replaceChildren(h('p', { class: 'muted' }, 'Running…'));
    try {
      const a = await post<QueryAnswer>('/v1/queries', body());
      showAnswer(a);
      announce(`Query answered: ${a.rows.length} rows.`);
    } catch (err: unknown) {
      results.replaceChildren();
      queryError.replaceChildren(errorBox(err, text));
      errorFrom = 'run'; // stays until the next run or edit
      if (err instanceof ApiError && err.code === 'BUDGET_EXHAUSTED') {
        const prefill = prefillFrom(err);
        if (prefill !== undefined) {
          queryError.append(h('p', {}, 'The request form below is filled in for you: ask for more budget, or for raw rows.'));
          accessForm(requestHost, datasets, prefill, () => void loadRequests());
          document.getElementById('request-h')?.scrollIntoView({ block: 'start' });
        }
      }
    }
    void loadBudget();
    void loadHistory();
    scheduleEstimate();
  }

  async function loadHistory(): Promise<void> {
    try {
      const list = await get<HistoryList>('/v1/queries?limit=10');
      fill(
        historyBox,
        list.queries.length === 0
          ? h('p', { class: 'muted' }, 'No answered query yet.')
          : table(
              'My recent answers (re-opening one is free)',
              ['Answered', 'SQL', 'ε', 'Rows', ''],
              list.queries.map((q) => [
                when(q.at),
                h('code', { class: 'sql-cell' }, q.sql),
                q.cached ? `0 (cached)` : num(q.privacy.epsilon),
                String(q.rowCount),
                h('button', { type: 'button', class: 'secondary', 'data-query': q.id, onclick: () => void reopen(q.id) }, 'Open'),
              ]),
              { id: 'history-table' },
            ),
      );
    } catch (err: unknown) {
      fill(historyBox, errorBox(err));
    }
  }

  async function reopen(id: string): Promise<void> {
    try {
      const q = await get<HistoryDetail>(`/v1/queries/${encodeURIComponent(id)}`);
      showAnswer(q, q);
      document.getElementById('results-h')?.scrollIntoView({ block: 'start' });
      announce(`Re-opened ${id}: ${q.rows.length} rows.`);
    } catch (err: unknown) {
      fill(results, errorBox(err));
    }
  }

  async function loadBudget(): Promise<void> {
    try {
      const b = await get<{ budgets: DatasetBudget[] }>('/v1/budget');
      fill(budgetBox, b.budgets.length === 0 ? h('p', { class: 'muted' }, 'No dataset.') : budgetGauges(b.budgets));
    } catch (err: unknown) {
      fill(budgetBox, errorBox(err));
    }
  }

  const activeGrants = (): AccessRequest[] =>
    myRequests.filter((r) => r.kind === 'raw' && r.status === 'approved' && r.expiresAt !== null && new Date(r.expiresAt).getTime() > Date.now());

  async function loadRequests(): Promise<void> {
    try {
      myRequests = (await get<{ requests: AccessRequest[] }>('/v1/access-requests?mine=true')).requests;
    } catch (err: unknown) {
      fill(requestsBox, errorBox(err));
      return;
    }
    const rows = myRequests.map((r) => [
      h('code', {}, r.id),
      r.kind,
      r.kind === 'raw' ? (r.columns ?? []).join(', ') || '(none in clear)' : `ε ${num(r.epsilon)}, δ ${num(r.delta)}`,
      h('span', {}, h('span', { class: `status ${r.status}` }, r.status), r.reason !== null && (r.status === 'denied' || r.status === 'revoked') ? h('span', { class: 'reason' }, ` — ${r.decidedBy ?? ''}: ${r.reason}`) : null),
      `${r.approvals.length}/${r.requiredApprovals}`,
      r.status === 'approved' && r.expiresAt !== null ? `${timeLeft(r.expiresAt)} left` : r.status === 'pending' ? `decide by ${when(r.pendingUntil)}` : '–',
      r.status === 'pending'
        ? h('button', { type: 'button', class: 'secondary', onclick: () => void cancel(r.id) }, 'Cancel')
        : null,
    ]);
    fill(
      requestsBox,
      myRequests.length === 0
        ? h('p', { class: 'muted' }, 'No requests yet.')
        : table('My access requests', ['Request', 'Kind', 'Scope', 'Status', 'Approvals', 'Time', ''], rows, { id: 'requests-table' }),
    );
    renderRaw();
  }

  async function cancel(id: string): Promise<void> {
    try {
      await post(`/v1/access-requests/${encodeURIComponent(id)}/cancel`, {});
      announce(`Request ${id} cancelled.`);
    } catch (err: unknown) {
      announce(messageOf(err));
    }
    await loadRequests();
  }

  // Raw queries: only under an active raw grant; masked columns are marked in the header.
  const grantSel = h('select', { id: 'grant' });
  const rawSql = h('textarea', { id: 'raw-sql', rows: 4, spellcheck: false, autocapitalize: 'off' });
  const rawOut = h('div', { id: 'raw-results' });
  const rawForm = h(
    'form',
    { id: 'raw-form' },
    field('Grant', grantSel),
    field('Raw SQL', rawSql, 'One SELECT of listed columns; WHERE and ORDER BY only on columns shown in clear.'),
    h('button', { type: 'submit', id: 'raw-run' }, 'Run raw query'),
    rawOut,
  );
  rawForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void runRaw();
  });
  function sampleRaw(r: AccessRequest): string {
    const d = datasets.find((x) => x.name === r.dataset);
    const t = (r.columns ?? [])[0]?.split('.')[0] ?? Object.keys(d?.tables ?? {})[0] ?? 'table';
    const cols = Object.keys(d?.tables[t]?.columns ?? {});
    return `SELECT ${cols.length === 0 ? '*' : cols.join(', ')} FROM ${t} LIMIT 20`;
  }
  function renderRaw(): void {
    const grants = activeGrants();
    if (grants.length === 0) {
      fill(rawBox, h('p', { class: 'muted' }, 'No active raw grant. File a raw access request; once approved it appears here.'));
      return;
    }
    const keep = grantSel.value;
    fill(
      grantSel,
      grants.map((g) => h('option', { value: g.id }, `${g.id} — ${g.dataset}: ${(g.columns ?? []).join(', ') || 'no column in clear'} (${timeLeft(g.expiresAt)} left)`)),
    );
    if (grants.some((g) => g.id === keep)) grantSel.value = keep;
    if (rawSql.value === '') rawSql.value = sampleRaw(grants.find((g) => g.id === grantSel.value) ?? grants[0]!);
    if (!rawBox.contains(rawForm)) fill(rawBox, rawForm);
  }
  async function runRaw(): Promise<void> {
    const text = rawSql.value;
    rawOut.replaceChildren(h('p', { class: 'muted' }, 'Running…'));
    try {
      const a = await post<RawAnswer>('/v1/raw-queries', { requestId: grantSel.value, sql: text });
      const grant = myRequests.find((r) => r.id === grantSel.value);
      const maskOf = (c: string): string | undefined => Object.entries(a.masked).find(([k]) => k.split('.')[1] === c)?.[1];
      const clear = (c: string): boolean => (grant?.columns ?? []).some((k) => k.split('.')[1] === c);
      const headers = a.columns.map((c) => {
        const m = maskOf(c);
        return h('span', { class: m === undefined ? '' : 'masked-col', 'data-mask': m ?? '' }, c, m === undefined ? (clear(c) ? h('span', { class: 'badge clear' }, 'clear (granted)') : null) : h('span', { class: 'badge masked' }, `masked: ${m}`));
      });
      fill(
        rawOut,
        h('p', { id: 'raw-summary' }, `${a.rowCount} row(s)${a.truncated ? ' — cut at the per-query limit' : ''}. ${Object.keys(a.masked).length} column(s) masked.`),
        table(
          'Raw rows (masked columns marked)',
          headers,
          a.rows.map((r) => a.columns.map((c) => (maskOf(c) === undefined ? cell(r[c]) : h('span', { class: 'masked-val' }, cell(r[c]))))),
          { id: 'raw-table' },
        ),
      );
      announce(`Raw query answered: ${a.rowCount} rows.`);
    } catch (err: unknown) {
      rawOut.replaceChildren(errorBox(err, text));
    }
    void loadRequests();
  }

  const queryForm = h(
    'form',
    { id: 'query-form', 'aria-labelledby': 'query-h' },
    field('Dataset', datasetSel),
    h(
      'div',
      { class: 'field' },
      h('label', { id: 'sql-label', for: 'sql' }, 'SQL'),
      sql.element,
      h('small', { id: 'sql-hint', class: 'hint' }, 'Aggregates (COUNT, SUM, AVG, …) with WHERE and GROUP BY. Names complete as you type; Ctrl+Enter runs. Column names on the left insert into the SQL.'),
    ),
    h('div', { class: 'row' }, field('ε (epsilon)', epsilon), field('Mechanism', mechanism), field('δ (delta, at most)', delta)),
    estimateOut,
    h('div', { class: 'row' }, h('button', { type: 'submit', id: 'run' }, 'Run query'), h('button', { type: 'button', class: 'secondary', id: 'open-request', onclick: () => accessForm(requestHost, datasets, { kind: 'raw', raw: { dataset: datasetSel.value, durationMinutes: 60 }, budget: { dataset: datasetSel.value } }, () => void loadRequests()) }, 'Request access…')),
    queryError,
  );
  queryForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  for (const el of [epsilon, delta]) el.addEventListener('input', scheduleEstimate);
  mechanism.addEventListener('change', scheduleEstimate);
  datasetSel.addEventListener('change', () => {
    sql.setValue('');
    showDataset();
  });

  fill(
    root,
    h('h1', { tabindex: -1 }, 'Analyst'),
    h('section', { 'aria-labelledby': 'budget-h' }, h('h2', { id: 'budget-h' }, 'Budget'), budgetBox),
    h(
      'div',
      { class: 'split' },
      h('aside', { 'aria-labelledby': 'schema-h', class: 'schema' }, h('h2', { id: 'schema-h' }, 'Tables'), schemaBox),
      h('section', { 'aria-labelledby': 'query-h' }, h('h2', { id: 'query-h' }, 'Query'), queryForm),
    ),
    h('section', { 'aria-labelledby': 'results-h' }, h('h2', { id: 'results-h' }, 'Results'), results),
    h('section', { 'aria-labelledby': 'history-h' }, h('h2', { id: 'history-h' }, 'History'), historyBox),
    h('section', { 'aria-labelledby': 'request-h' }, h('h2', { id: 'request-h' }, 'Request access'), requestHost),
    h('section', { 'aria-labelledby': 'requests-h' }, h('h2', { id: 'requests-h' }, 'My requests'), h('button', { type: 'button', class: 'secondary', id: 'refresh-requests', onclick: () => void loadRequests() }, 'Refresh'), requestsBox),
    h('section', { 'aria-labelledby': 'raw-h' }, h('h2', { id: 'raw-h' }, 'Raw queries'), rawBox),
  );

  void (async () => {
    try {
      datasets = (await get<{ datasets: Dataset[] }>('/v1/datasets')).datasets;
      fill(datasetSel, datasets.map((d) => h('option', { value: d.name }, d.name)));
      showDataset();
    } catch (err: unknown) {
      fill(schemaBox, errorBox(err));
      queryForm.hidden = true;
    }
    await Promise.all([loadBudget(), loadRequests(), loadHistory()]);
  })();
  life.interval(() => renderRaw(), 30_000);
  return life.dispose;
};
