/** `GET /v1/budget`: the caller's budget on every dataset it may query, with the renewal time. */
import { budgetsOf } from '../../budget/overview.ts';
import type { RouteModule } from '../app.ts';
import { principalOf } from '../middleware.ts';

export const budgetRoutes: RouteModule = (router, services) => {
  router.get('/budget', async (_req, res) => {
    res.json({ budgets: await budgetsOf(services, principalOf(res)) });
  });
};
