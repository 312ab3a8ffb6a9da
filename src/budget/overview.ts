/** A principal's budget on every dataset it may query, with the renewal time (GET /v1/budget, SHOW dpq.budget). */
import { datasetsFor, type Principal } from '../policy/authorize.ts';
import type { Services } from '../services.ts';
import { type BudgetStatus, readStatus } from './ledger.ts';
import { periodOf } from './period.ts';

export interface DatasetBudget extends BudgetStatus {
  readonly dataset: string;
  readonly renews: string | null;
}

export async function budgetsOf(services: Pick<Services, 'policy' | 'state' | 'clock'>, principal: Principal): Promise<DatasetBudget[]> {
  const now = services.clock.now();
  return Promise.all(
    datasetsFor(services.policy, principal, 'query').map(async (name) => {
      const dataset = services.policy.datasets[name]!;
      const period = periodOf(dataset.budget.renew, now);
      const status = await readStatus(services.state, { principal: principal.name, dataset: name, period: period.key }, dataset.budget.analyst, dataset.budget.accounting);
      return { dataset: name, ...status, renews: period.renews?.toISOString() ?? null };
    }),
  );
}
