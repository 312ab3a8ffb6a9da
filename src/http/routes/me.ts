/** `GET /v1/me`: who the credential is, its roles and what they allow (the console's tabs follow it). */
import { datasetsFor, may } from '../../policy/authorize.ts';
import { ACTIONS } from '../../policy/schema.ts';
import type { RouteModule } from '../app.ts';
import { principalOf } from '../middleware.ts';
import type { Me } from '../schemas.ts';

export const meRoutes: RouteModule = (router, services) => {
  router.get('/me', (_req, res) => {
    const principal = principalOf(res);
    const body: Me = {
      principal: principal.name,
      roles: [...principal.roles],
      may: ACTIONS.filter((a) => may(services.policy, principal, a)),
      datasets: datasetsFor(services.policy, principal, 'query'),
      metrics: Object.entries(services.policy.metrics)
        .filter(([, m]) => principal.roles.some((r) => m.readers.includes(r)))
        .map(([name]) => name),
    };
    res.json(body);
  });
};
