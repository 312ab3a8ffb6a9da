/** The budget gauge: ε (and δ) spent of the limit, per dataset, as `<meter>`s with the numbers written out. */
import { h, num, when } from './dom.ts';
import type { Amount, DatasetBudget } from './types.ts';

function gauge(id: string, label: string, a: Amount): HTMLElement {
  const left = a.limit > 0 ? a.remaining / a.limit : 0;
  return h(
    'div',
    { class: 'gauge' },
    h('label', { for: id }, label),
    h('meter', { id, min: 0, max: a.limit, value: a.spent, low: a.limit * 0.5, high: a.limit * 0.8, optimum: 0 }),
    h('span', { class: left <= 0.2 ? 'gauge-text low' : 'gauge-text' }, `${num(a.spent)} spent of ${num(a.limit)} — ${num(a.remaining)} left`),
  );
}

export function budgetGauges(budgets: readonly DatasetBudget[]): HTMLElement {
  return h(
    'div',
    { class: 'gauges' },
    budgets.map((b) =>
      h(
        'div',
        { class: 'gauge-set', 'data-dataset': b.dataset },
        h('h3', {}, b.dataset),
        gauge(`gauge-eps-${b.dataset}`, `ε on ${b.dataset}`, b.epsilon),
        gauge(`gauge-delta-${b.dataset}`, `δ on ${b.dataset}`, b.delta),
        h('p', { class: 'muted' }, b.renews === null ? 'Does not renew.' : `Renews ${when(b.renews)}.`),
      ),
    ),
  );
}
