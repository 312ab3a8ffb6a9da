/**
 * `GET /v1/datasets`: what the caller may query — tables, columns (type, bounds, public values),
 * unit column, contribution bounds, default ε/δ and limits — so analysts can write queries.
 * Masks and sensitivity are shown too: they say what a raw grant would reveal.
 */
import { datasetsFor } from '../../policy/authorize.ts';
import { formatDuration } from '../../policy/duration.ts';
import type { Dataset } from '../../policy/schema.ts';
import type { RouteModule } from '../app.ts';
import { principalOf } from '../middleware.ts';

export function describeDataset(name: string, d: Dataset): Record<string, unknown> {
  return {
    name,
    description: d.description ?? null,
    defaults: d.defaults,
    limits: d.limits,
    budget: { analyst: d.budget.analyst, renew: d.budget.renew },
    cacheTtl: formatDuration(d.cacheTtl),
    joins: d.joins,
    tables: Object.fromEntries(
      Object.entries(d.tables).map(([t, table]) => [
        t,
        {
          unit: table.unit,
          maxRowsPerUnit: table.maxRowsPerUnit,
          maxGroupsPerUnit: table.maxGroupsPerUnit,
          columns: Object.fromEntries(
            Object.entries(table.columns).map(([c, col]) => [
              c,
              {
                type: col.type,
                sensitivity: col.sensitivity,
                aggregate: col.aggregate,
                ...(col.bounds === undefined ? {} : { bounds: col.bounds }),
                ...(col.granularity === undefined ? {} : { granularity: col.granularity }),
                ...(col.values === undefined ? {} : { values: col.values }),
                ...(col.mask === undefined ? {} : { mask: col.mask }),
              },
            ]),
          ),
        },
      ]),
    ),
  };
}

export const datasetRoutes: RouteModule = (router, services) => {
  router.get('/datasets', (_req, res) => {
    // The datasets the caller may query: possibly none (a dashboard account, an approver).
    const names = datasetsFor(services.policy, principalOf(res), 'query');
    res.json({ datasets: names.map((n) => describeDataset(n, services.policy.datasets[n]!)) });
  });
};
