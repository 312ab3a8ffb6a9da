/**
 * What a reader of named metrics may see: the metrics their roles can read (with the metric
 * account's budget), one metric looked up by name with its access check, and a stored release as
 * the JSON the API returns. The HTTP routes only add caching headers around these.
 */
import { readStatus } from '../budget/ledger.ts';
import { periodOf } from '../budget/period.ts';
import { forbidden, notFound } from '../errors.ts';
import type { Principal } from '../policy/authorize.ts';
import { formatDuration } from '../policy/duration.ts';
import type { Metric } from '../policy/schema.ts';
import type { StoredRelease } from '../queries/execute.ts';
import type { Services } from '../services.ts';
import { metricAccount, type MetricRelease } from './releases.ts';

export const canRead = (principal: Principal, metric: Metric): boolean => principal.roles.some((r) => metric.readers.includes(r));

/** The metric named `name`, if this principal may read it (404 / 403 otherwise). */
export function metricFor(services: Services, principal: Principal, name: string): Metric {
  const metric = Object.hasOwn(services.policy.metrics, name) ? services.policy.metrics[name] : undefined;
  if (metric === undefined) throw notFound(`unknown metric "${name}"`);
  if (!canRead(principal, metric)) throw forbidden(`this principal may not read metric "${name}"`);
  return metric;
}

/** A stored release as the API shows it. */
export function presentRelease(name: string, r: MetricRelease, stale: boolean): Record<string, unknown> {
  const body = JSON.parse(r.body) as StoredRelease;
  return {
    name,
    id: body.id,
    releasedAt: r.releasedAt.toISOString(),
    nextReleaseAt: stale ? null : r.nextReleaseAt.toISOString(),
    stale,
    columns: body.columns,
    rows: body.rows,
    accuracy: body.accuracy,
    privacy: body.privacy,
  };
}

/** Every metric this principal may read, with the budget of its metric account this period. */
export async function listMetrics(services: Services, principal: Principal) {
  const now = services.clock.now();
  return Promise.all(
    Object.entries(services.policy.metrics)
      .filter(([, m]) => canRead(principal, m))
      .map(async ([name, m]) => {
        const dataset = services.policy.datasets[m.dataset]!;
        const key = { principal: metricAccount(name), dataset: m.dataset, period: periodOf(dataset.budget.renew, now).key };
        return {
          name,
          dataset: m.dataset,
          description: m.description ?? null,
          epsilon: m.epsilon,
          refresh: formatDuration(m.refresh),
          budget: await readStatus(services.state, key, m.budget, dataset.budget.accounting),
        };
      }),
  );
}
