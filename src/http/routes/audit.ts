/** `GET /v1/audit` and `GET /v1/audit/verify`: the audit log for principals with the `audit` action. */
import { z } from 'zod';
import { searchAudit } from '../../audit/search.ts';
import { verifyAudit } from '../../audit/verify.ts';
import { forbidden } from '../../errors.ts';
import { may } from '../../policy/authorize.ts';
import type { RouteModule } from '../app.ts';
import { principalOf } from '../middleware.ts';
import { parseInput } from '../parse-input.ts';

/** `actor=alice` or `actor=alice,sam`: one value or a comma-separated list. */
const values = z
  .string()
  .max(1000)
  .transform((s) => s.split(',').map((v) => v.trim()).filter((v) => v !== ''))
  .optional();
const isoTime = z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional();

export const auditListQuery = z
  .strictObject({
    after: z.coerce.number().int().min(0).optional(),
    before: z.coerce.number().int().min(1).optional(),
    order: z.enum(['asc', 'desc']).default('asc'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    actor: values,
    action: values,
    dataset: values,
    outcome: values,
    from: isoTime,
    to: isoTime,
  })
  .refine((q) => !(q.order === 'asc' && q.before !== undefined), { message: 'before goes with order=desc (after with order=asc)', path: ['before'] })
  .refine((q) => !(q.order === 'desc' && q.after !== undefined), { message: 'after goes with order=asc (before with order=desc)', path: ['after'] });

export const verifyQuery = z
  .strictObject({
    checkpointSeq: z.coerce.number().int().min(1).optional(),
    checkpointHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  })
  .refine((q) => (q.checkpointSeq === undefined) === (q.checkpointHash === undefined), 'checkpointSeq and checkpointHash go together');

export const auditRoutes: RouteModule = (router, services) => {
  const requireAuditor = (res: Parameters<typeof principalOf>[0]): void => {
    if (!may(services.policy, principalOf(res), 'audit')) throw forbidden('reading the audit log needs the audit action');
  };

  router.get('/audit', async (req, res) => {
    requireAuditor(res);
    const q = parseInput(auditListQuery, req.query, 'query');
    const page = { order: q.order, cursor: q.order === 'asc' ? (q.after ?? 0) : q.before, limit: q.limit };
    res.json(await searchAudit(services.state, q, page));
  });

  router.get('/audit/verify', async (req, res) => {
    requireAuditor(res);
    const q = parseInput(verifyQuery, req.query, 'query');
    const checkpoint = q.checkpointSeq === undefined ? undefined : { seq: q.checkpointSeq, hash: q.checkpointHash! };
    res.json(await verifyAudit(services.state, checkpoint));
  });
};
