/** `POST /v1/queries` and `POST /v1/queries/estimate`. */
import { estimateQuery } from '../../queries/estimate.ts';
import { estimateBody, queryBody } from '../../queries/request.ts';
import { runQuery } from '../../queries/run.ts';
import type { RouteModule } from '../app.ts';
import { principalOf } from '../middleware.ts';
import { parseInput } from '../parse-input.ts';

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
};
