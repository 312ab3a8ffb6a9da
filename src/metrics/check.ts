/**
 * Start-up check of the metrics of a policy: each metric's SQL must pass the aggregate rules of
 * its dataset, its ε must be splittable over its measurements, and one release must fit the metric's
 * budget (δ included: a metric that needs partition selection needs a δ budget), or the start stops with the file
 * and the path (`policies/clinic.yaml: metrics.visits_by_region.sql: …`).
 */
import { DpqError } from '../errors.ts';
import { PolicyError, type PolicyProblem } from '../policy/load.ts';
import type { Metric, Policy } from '../policy/schema.ts';
import type { QueryParams } from '../queries/params.ts';
import { splitFor } from '../queries/prepare.ts';
import { planQuery } from '../sql/index.ts';

/** The query parameters of one release of a metric (ε per release; δ and mechanism from the dataset when unset). */
export function metricParams(policy: Policy, name: string, metric: Metric): QueryParams {
  const dataset = policy.datasets[metric.dataset]!;
  return {
    datasetName: metric.dataset,
    dataset,
    epsilon: metric.epsilon,
    delta: metric.delta ?? dataset.defaults.delta,
    mechanism: metric.mechanism ?? dataset.defaults.mechanism,
    confidence: 0.95,
  };
}

export async function validateMetrics(policy: Policy, origins: Readonly<Record<string, string>> = {}): Promise<void> {
  const problems: PolicyProblem[] = [];
  for (const [name, metric] of Object.entries(policy.metrics)) {
    const file = origins[`metrics.${name}`] ?? 'policy';
    const params = metricParams(policy, name, metric);
    try {
      const plan = await planQuery(metric.sql, params.dataset, { delta: params.delta, dataset: metric.dataset });
      const { charge } = splitFor(params, plan);
      if (charge.epsilon > metric.budget.epsilon || charge.delta > metric.budget.delta) {
        problems.push({
          file,
          path: `metrics.${name}.budget`,
          message: `one release costs ε=${charge.epsilon}, δ=${charge.delta}, more than the metric's budget (ε=${metric.budget.epsilon}, δ=${metric.budget.delta})`,
        });
      }
    } catch (err: unknown) {
      if (!(err instanceof DpqError)) throw err;
      const hint = typeof err.details?.hint === 'string' ? ` (${err.details.hint})` : '';
      problems.push({ file, path: `metrics.${name}.${err.code.startsWith('SQL') ? 'sql' : 'epsilon'}`, message: `${err.message}${hint}` });
    }
  }
  if (problems.length > 0) throw new PolicyError(problems);
}
