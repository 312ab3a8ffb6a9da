/**
 * Dashboards: each noisy metric's latest release (a table with ± intervals) and its history as
 * lines with the interval band, one line per group.
 */
import { get } from '../api.ts';
import { bandChart, type BandSeries, type Chart } from '../charts.ts';
import { fill, h, num, table, when } from '../dom.ts';
import { errorBox } from '../errors.ts';
import { Disposer, type Page } from '../page.ts';
import type { MetricInfo, MetricRelease } from '../types.ts';

const HISTORY = 50;

function history(host: HTMLElement, m: MetricInfo, releases: readonly MetricRelease[]): Chart | undefined {
  const ordered = [...releases].reverse(); // oldest first
  const latest = ordered.at(-1);
  if (latest === undefined) {
    host.append(h('p', { class: 'muted' }, 'No release yet.'));
    return undefined;
  }
  const measured = latest.columns.filter((c) => latest.accuracy[c] !== undefined);
  const keys = latest.columns.filter((c) => latest.accuracy[c] === undefined);
  const col = measured[0];
  if (col === undefined) return undefined;
  const keyOf = (r: Readonly<Record<string, unknown>>): string => (keys.length === 0 ? col : keys.map((k) => String(r[k])).join(' / '));
  const groups = [...new Set(ordered.flatMap((rel) => rel.rows.map(keyOf)))];
  const series: BandSeries[] = groups.map((g) => {
    const values: (number | null)[] = [];
    const lo: (number | null)[] = [];
    const hi: (number | null)[] = [];
    for (const rel of ordered) {
      const row = rel.rows.find((r) => keyOf(r) === g);
      const v = row === undefined ? null : Number(row[col]);
      const ci = rel.accuracy[col]?.ci ?? null;
      values.push(v);
      lo.push(v === null || ci === null ? null : v + ci[0]);
      hi.push(v === null || ci === null ? null : v + ci[1]);
    }
    return { label: g, values, lo, hi };
  });
  return bandChart(host, `${m.name}: ${col} per release, with its noise interval`, ordered.map((r) => new Date(r.releasedAt).getTime()), series);
}

export const dashboardsPage: Page = (root) => {
  const life = new Disposer();
  const charts: Chart[] = [];
  life.add(() => charts.forEach((c) => c.destroy()));
  const list = h('div', { id: 'metrics' }, h('p', { class: 'muted' }, 'Loading…'));
  fill(root, h('h1', { tabindex: -1 }, 'Dashboards'), list);

  async function one(m: MetricInfo): Promise<HTMLElement> {
    const section = h('section', { class: 'metric', 'aria-labelledby': `m-${m.name}`, 'data-metric': m.name }, h('h2', { id: `m-${m.name}` }, m.name));
    if (m.description !== null) section.append(h('p', {}, m.description));
    section.append(h('p', { class: 'muted' }, `Dataset ${m.dataset}; ε ${num(m.epsilon)} per release, at most one release every ${m.refresh}; metric budget ε ${num(m.budget.epsilon.remaining)} of ${num(m.budget.epsilon.limit)} left.`));
    list.append(section);
    try {
      const latest = await get<MetricRelease>(`/v1/metrics/${encodeURIComponent(m.name)}`);
      const hist = await get<{ releases: MetricRelease[] }>(`/v1/metrics/${encodeURIComponent(m.name)}/history?limit=${HISTORY}`);
      section.append(
        h('p', {}, `Released ${when(latest.releasedAt)}; ${latest.stale ? 'stale — the metric budget is spent' : `next release after ${when(latest.nextReleaseAt)}`}.`),
        table(
          `${m.name}, latest release`,
          [...latest.columns],
          latest.rows.map((r) =>
            latest.columns.map((c) => {
              const ci = latest.accuracy[c]?.ci;
              const v = r[c];
              return ci === undefined || ci === null ? String(v) : `${num(Number(v), 8)} ± ${num(Math.max(Math.abs(ci[0]), Math.abs(ci[1])))}`;
            }),
          ),
        ),
      );
      const chartHost = h('div', { class: 'metric-chart' });
      section.append(chartHost);
      const c = history(chartHost, m, hist.releases);
      if (c !== undefined) charts.push(c);
    } catch (err: unknown) {
      section.append(errorBox(err));
    }
    return section;
  }

  void (async () => {
    try {
      const { metrics } = await get<{ metrics: MetricInfo[] }>('/v1/metrics');
      list.replaceChildren();
      if (metrics.length === 0) list.append(h('p', { class: 'muted' }, 'No metric is readable with these credentials.'));
      for (const m of metrics) await one(m);
    } catch (err: unknown) {
      fill(list, errorBox(err));
    }
  })();
  return life.dispose;
};
