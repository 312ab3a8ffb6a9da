/**
 * The bodies of `POST /v1/queries` and `/v1/queries/estimate`, validated at the edge. Unknown
 * fields are refused (a typo such as `epsilom` must not silently fall back to the default).
 */
import { z } from 'zod';

const finite = z.number().finite();

export const queryBody = z.strictObject({
  sql: z.string().trim().min(1, 'the SQL is empty').max(20_000).refine((s) => !s.includes('\u0000'), 'the SQL contains a NUL character'),
  dataset: z.string().min(1).max(100).optional(),
  epsilon: finite.positive().optional(),
  delta: finite.min(0).lt(1).optional(),
  mechanism: z.enum(['laplace', 'gaussian']).optional(),
  confidence: finite.gt(0).lt(1).optional(),
});

export const estimateBody = queryBody
  .extend({
    accuracy: z.strictObject({ column: z.string().min(1), halfWidth: finite.positive() }).optional(),
  })
  .refine((b) => !(b.accuracy !== undefined && b.epsilon !== undefined), {
    message: 'give either epsilon or accuracy, not both',
    path: ['accuracy'],
  });

export type QueryBody = z.infer<typeof queryBody>;
export type EstimateBody = z.infer<typeof estimateBody>;
