/** `GET /v1/budget`: the caller's budget on every dataset it may query, with the renewal time. */
import { readStatus } from '../../budget/ledger.ts';
import { periodOf } from '../../budget/period.ts';
import { datasetsFor } from '../../policy/authorize.ts';
import type { RouteModule } from '../app.ts';
import { principalOf } from '../middleware.ts';

export const budgetRoutes: RouteModule = (router, services) => {
  router.get('/budget', async (_req, res) => {
    const principal = principalOf(res);
    const now = services.clock.now();
    const budgets = await Promise.all(
      datasetsFor(services.policy, principal, 'query').map(async (name) => {
        const dataset = services.policy.datasets[name]!;
        const period = periodOf(dataset.budget.renew, now);
        const status = await readStatus(services.state, { principal: principal.name, dataset: name, period: period.key }, dataset.budget.analyst);
        return { dataset: name, ...status, renews: period.renews?.toISOString() ?? null };
      }),
    );
    res.json({ budgets });
  });
};
