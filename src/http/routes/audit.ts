/** `GET /v1/audit` and `GET /v1/audit/verify`: the audit log for principals with the `audit` action. */
import { z } from 'zod';
import { readAudit } from '../../audit/log.ts';
import { verifyAudit } from '../../audit/verify.ts';
import { forbidden } from '../../errors.ts';
import { may } from '../../policy/authorize.ts';
import type { RouteModule } from '../app.ts';
import { principalOf } from '../middleware.ts';
import { parseInput } from '../parse-input.ts';

const listQuery = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const verifyQuery = z
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
    const q = parseInput(listQuery, req.query, 'query');
    const entries = await readAudit(services.state, q.after, q.limit);
    res.json({ entries, next: entries.length === q.limit ? entries.at(-1)!.seq : null });
  });

  router.get('/audit/verify', async (req, res) => {
    requireAuditor(res);
    const q = parseInput(verifyQuery, req.query, 'query');
    const checkpoint = q.checkpointSeq === undefined ? undefined : { seq: q.checkpointSeq, hash: q.checkpointHash! };
    res.json(await verifyAudit(services.state, checkpoint));
  });
};
