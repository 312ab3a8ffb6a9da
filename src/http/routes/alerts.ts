/** `GET /v1/alerts`: the alerts raised by the policy's `alerts` rules (auditors; access/alerts.ts). */
import { z } from 'zod';
import { listAlerts } from '../../access/alerts.ts';
import { forbidden } from '../../errors.ts';
import { may } from '../../policy/authorize.ts';
import type { RouteModule } from '../app.ts';
import { principalOf } from '../middleware.ts';
import { parseInput } from '../parse-input.ts';

export const alertsQuery = z.strictObject({
  /** The seq of the last alert seen (`al_<seq>`, or the number); the answer's `next`. */
  after: z
    .string()
    .regex(/^(al_)?\d{1,18}$/, 'must be an alert id (al_…) or its number')
    .optional()
    .transform((v) => (v === undefined ? 0 : Number(v.replace(/^al_/, '')))),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const alertRoutes: RouteModule = (router, services) => {
  router.get('/alerts', async (req, res) => {
    if (!may(services.policy, principalOf(res), 'audit')) throw forbidden('reading alerts needs the audit action');
    const q = parseInput(alertsQuery, req.query, 'query');
    const alerts = await listAlerts(services.state, q.after, q.limit);
    res.json({ alerts, next: alerts.length === q.limit ? alerts.at(-1)!.id : null });
  });
};
