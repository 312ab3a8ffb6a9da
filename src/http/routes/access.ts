/**
 * JIT access requests (api.md, JIT access): create, list, read, approve, deny, revoke, cancel.
 * Bodies are validated here (access/schemas.ts); the state machine is in access/lifecycle.ts.
 */
import { type Actor, accessContext } from '../../access/context.ts';
import { createRequest } from '../../access/create.ts';
import { approveRequest, cancelRequest, denyRequest, revokeRequest } from '../../access/lifecycle.ts';
import { listVisible, readRequest } from '../../access/read.ts';
import { approveBody, cancelBody, createBody, denyBody, idParams, listQuery, revokeBody } from '../../access/schemas.ts';
import type { RouteModule } from '../app.ts';
import { principalOf } from '../middleware.ts';
import { parseInput } from '../parse-input.ts';

type Locals = Parameters<typeof principalOf>[0];

export const actorOf = (res: Locals): Actor => ({
  principal: principalOf(res),
  httpRequestId: String(res.locals.requestId ?? ''),
  sourceAddress: typeof res.locals.sourceAddress === 'string' ? res.locals.sourceAddress : undefined,
});

export const accessRoutes: RouteModule = (router, services) => {
  const ctx = accessContext(services);

  router.post('/access-requests', async (req, res) => {
    const body = parseInput(createBody, req.body);
    res.status(201).json(await createRequest(ctx, actorOf(res), body));
  });

  router.get('/access-requests', async (req, res) => {
    const q = parseInput(listQuery, req.query, 'query');
    res.json({ requests: await listVisible(ctx, principalOf(res), q) });
  });

  router.get('/access-requests/:id', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'path');
    res.json(await readRequest(ctx, principalOf(res), id));
  });

  router.post('/access-requests/:id/approve', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'path');
    const body = parseInput(approveBody, req.body);
    res.json(await approveRequest(ctx, actorOf(res), id, body.comment));
  });

  router.post('/access-requests/:id/deny', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'path');
    const body = parseInput(denyBody, req.body);
    res.json(await denyRequest(ctx, actorOf(res), id, body.reason));
  });

  router.post('/access-requests/:id/revoke', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'path');
    const body = parseInput(revokeBody, req.body);
    res.json(await revokeRequest(ctx, actorOf(res), id, body.reason));
  });

  router.post('/access-requests/:id/cancel', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'path');
    const body = parseInput(cancelBody, req.body);
    res.json(await cancelRequest(ctx, actorOf(res), id, body.reason));
  });
};
