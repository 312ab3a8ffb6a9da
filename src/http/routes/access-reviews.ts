/** `GET /v1/access-reviews?from=&to=`: the periodic access review (auditors and admins; access/reviews.ts). */
import { z } from 'zod';
import { accessReview } from '../../access/reviews.ts';
import { forbidden, invalidRequest } from '../../errors.ts';
import { may } from '../../policy/authorize.ts';
import type { RouteModule } from '../app.ts';
import { principalOf } from '../middleware.ts';
import { parseInput } from '../parse-input.ts';

/** A review covers the last 30 days unless told otherwise. */
export const DEFAULT_REVIEW_DAYS = 30;

const isoTime = z
  .string()
  .refine((v) => /^\d{4}-\d{2}-\d{2}/.test(v) && Number.isFinite(Date.parse(v)), 'must be an ISO date or time')
  .transform((v) => new Date(v))
  .optional();
export const reviewQuery = z.strictObject({ from: isoTime, to: isoTime });

export const accessReviewRoutes: RouteModule = (router, services) => {
  router.get('/access-reviews', async (req, res) => {
    const principal = principalOf(res);
    if (!may(services.policy, principal, 'audit') && !may(services.policy, principal, 'admin')) throw forbidden('access reviews need the audit or admin action');
    const q = parseInput(reviewQuery, req.query, 'query');
    const now = services.clock.now();
    const to = q.to ?? now;
    const from = q.from ?? new Date(to.getTime() - DEFAULT_REVIEW_DAYS * 86_400_000);
    if (from.getTime() >= to.getTime()) throw invalidRequest('query.from: must be before to', { field: 'from' });
    res.json(await accessReview(services.state, services.policy, { from, to }, now));
  });
};
