/** `POST /v1/tokens/reveal`: clear values of tokens under a covering grant (access/reveal.ts). */
import { accessContext } from '../../access/context.ts';
import { revealTokens } from '../../access/reveal.ts';
import { revealBody } from '../../access/schemas.ts';
import type { RouteModule } from '../app.ts';
import { parseInput } from '../parse-input.ts';
import { actorOf } from './access.ts';

export const tokenRoutes: RouteModule = (router, services) => {
  const ctx = accessContext(services);
  router.post('/tokens/reveal', async (req, res) => {
    const body = parseInput(revealBody, req.body);
    res.json(await revealTokens(ctx, actorOf(res), body.requestId, body.tokens));
  });
};
