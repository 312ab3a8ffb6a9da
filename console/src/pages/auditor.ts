/**
 * The auditor's page: verify the audit chain; ε spent over time per dataset (from the log's
 * charge entries); and the log itself, filterable by actor, action and dataset.
 */
import { get } from '../api.ts';
import { type Chart, stepChart } from '../charts.ts';
import { announce, field, fill, h, num, table, when } from '../dom.ts';
import { errorBox } from '../errors.ts';
import { Disposer, type Page } from '../page.ts';
import type { AuditEntry, Verify } from '../types.ts';

const PAGE = 1000;
const MAX_PAGES = 50;
const SHOWN = 500;

/**
 * An entry that spent ε: the `charged` stage of a query or a metric release (outcome `ok`). The
 * `answered` entry that follows repeats the amount, and a top-up adds budget rather than spending it.
 */
const spends = (e: AuditEntry): boolean => (e.action === 'query' || e.action === 'metric.release') && e.outcome === 'ok' && (e.epsilon ?? 0) > 0;

async function readAll(): Promise<AuditEntry[]> {
  const all: AuditEntry[] = [];
  let after = 0;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await get<{ entries: AuditEntry[]; next: number | null }>(`/v1/audit?after=${after}&limit=${PAGE}`);
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
  let entries: AuditEntry[] = [];

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
  const actor = h('select', { id: 'filter-actor' });
  const action = h('select', { id: 'filter-action' });
  const dataset = h('select', { id: 'filter-dataset' });
  const logBox = h('div', { id: 'audit-log' }, h('p', { class: 'muted' }, 'Loading…'));

  function options(sel: HTMLSelectElement, values: Iterable<string>): void {
    const keep = sel.value;
    fill(sel, h('option', { value: '' }, 'all'), [...new Set(values)].sort().map((v) => h('option', { value: v }, v)));
    sel.value = keep;
  }

  function renderLog(): void {
    const shown = entries.filter((e) => (actor.value === '' || e.actor === actor.value) && (action.value === '' || e.action === action.value) && (dataset.value === '' || (e.dataset ?? '') === dataset.value));
    const newest = shown.slice(-SHOWN).reverse();
    fill(
      logBox,
      h('p', { id: 'audit-count' }, `${shown.length} of ${entries.length} entries match${shown.length > SHOWN ? `; the newest ${SHOWN} are shown` : ''}.`),
      table(
        'Audit log, newest first',
        ['#', 'At', 'Actor', 'Action', 'Dataset', 'Outcome', 'ε', 'δ', 'SQL (redacted) / request'],
        newest.map((e) => [
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
    const charges = entries.filter(spends);
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
      entries = await readAll();
    } catch (err: unknown) {
      fill(logBox, errorBox(err));
      return;
    }
    options(actor, entries.map((e) => e.actor));
    options(action, entries.map((e) => e.action));
    options(dataset, entries.flatMap((e) => (e.dataset === null ? [] : [e.dataset])));
    renderChart();
    renderLog();
  }
  for (const sel of [actor, action, dataset]) sel.addEventListener('change', renderLog);

  fill(
    root,
    h('h1', { tabindex: -1 }, 'Auditor'),
    h('section', { 'aria-labelledby': 'verify-h' }, h('h2', { id: 'verify-h' }, 'Chain'), h('p', {}, 'Every entry is hash-chained to the one before; verification recomputes the whole chain on the server.'), verifyBtn, verifyOut),
    h('section', { 'aria-labelledby': 'spent-h' }, h('h2', { id: 'spent-h' }, 'ε spent per dataset'), chartHost),
    h(
      'section',
      { 'aria-labelledby': 'log-h' },
      h('h2', { id: 'log-h' }, 'Audit log'),
      h('div', { class: 'row filters' }, field('Actor', actor), field('Action', action), field('Dataset', dataset), h('button', { type: 'button', class: 'secondary', onclick: () => void load() }, 'Reload')),
      logBox,
    ),
  );
  void load();
  return life.dispose;
};
