/** `POST /v1/raw-queries`: row-level SELECTs under an active raw grant (access/raw-query.ts). */
import { accessContext } from '../../access/context.ts';
import { runRawQuery } from '../../access/raw-query.ts';
import { rawQueryBody } from '../../access/schemas.ts';
import type { RouteModule } from '../app.ts';
import { parseInput } from '../parse-input.ts';
import { actorOf } from './access.ts';

export const rawQueryRoutes: RouteModule = (router, services) => {
  const ctx = accessContext(services);
  router.post('/raw-queries', async (req, res) => {
    const body = parseInput(rawQueryBody, req.body);
    res.json(await runRawQuery(ctx, actorOf(res), body.requestId, body.sql));
  });
};
