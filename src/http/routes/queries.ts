/** `POST /v1/queries`, `POST /v1/queries/estimate`, and the history: `GET /v1/queries`, `GET /v1/queries/:id`. */
import { z } from 'zod';
import { forbidden, notFound } from '../../errors.ts';
import { may } from '../../policy/authorize.ts';
import { estimateQuery } from '../../queries/estimate.ts';
import { listHistory, readHistory } from '../../queries/history.ts';
import { estimateBody, queryBody } from '../../queries/request.ts';
import { runQuery } from '../../queries/run.ts';
import type { Services } from '../../services.ts';
import type { RouteModule } from '../app.ts';
import { principalOf } from '../middleware.ts';
import type { DeepReadonly, HistoryDetail, HistoryList } from '../schemas.ts';
import { parseInput } from '../parse-input.ts';

const queryId = z.string().regex(/^q_[A-Za-z0-9_-]{1,64}$/, 'not a query id');
const actor = z.string().min(1).max(200).optional();
export const historyListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: queryId.optional(),
  actor,
});
export const historyReadQuery = z.strictObject({ actor });
export const historyParams = z.strictObject({ id: queryId });

/** Whose history: the caller's own, or — for auditors only — `actor`'s, with the SQL redacted. */
function whose(services: Services, res: Parameters<typeof principalOf>[0], actorName: string | undefined): { principal: string; redacted: boolean } {
  const me = principalOf(res);
  if (actorName === undefined || actorName === me.name) return { principal: me.name, redacted: false };
  if (!may(services.policy, me, 'audit')) throw forbidden("reading another principal's queries needs the audit action");
  return { principal: actorName, redacted: true };
}

export const queryRoutes: RouteModule = (router, services) => {
  router.post('/queries', async (req, res) => {
    const body = parseInput(queryBody, req.body);
    const answer = await runQuery(services, { principal: principalOf(res), httpRequestId: String(res.locals.requestId) }, body);
    res.json(answer);
  });

  router.post('/queries/estimate', async (req, res) => {
    const body = parseInput(estimateBody, req.body);
    res.json(await estimateQuery(services, principalOf(res), body));
  });

  router.get('/queries', async (req, res) => {
    const q = parseInput(historyListQuery, req.query, 'query');
    const who = whose(services, res, q.actor);
    const body: HistoryList = await listHistory(services.state, who.principal, { limit: q.limit, redacted: who.redacted, ...(q.before === undefined ? {} : { before: q.before }) });
    res.json(body);
  });

  router.get('/queries/:id', async (req, res) => {
    const { id } = parseInput(historyParams, req.params, 'path');
    const q = parseInput(historyReadQuery, req.query, 'query');
    const who = whose(services, res, q.actor);
    const found = await readHistory(services.state, who.principal, id, who.redacted);
    if (found === undefined) throw notFound(`no answered query ${id} of ${who.principal}`);
    const body: DeepReadonly<HistoryDetail> = found;
    res.json(body);
  });
};
