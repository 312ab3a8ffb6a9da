/**
 * `POST /v1/integrations/slack/actions`: Slack's interactivity requests (access/slack.ts). Mounted
 * before the bearer-token `/v1` router: Slack authenticates with its request signature, which
 * covers the raw body, so the body is read raw here (form-encoded, at most 64 KiB).
 */
import express, { Router } from 'express';
import { accessContext } from '../../access/context.ts';
import { handleSlackAction } from '../../access/slack.ts';
import { DpqError } from '../../errors.ts';
import type { Services } from '../../services.ts';

export function slackRoutes(services: Services): Router {
  const router = Router();
  const ctx = accessContext(services);
  router.post('/actions', express.raw({ type: () => true, limit: '64kb' }), async (req, res) => {
    const secret = services.config.slackSigningSecret;
    if (secret === undefined) throw new DpqError('UNAUTHENTICATED', 'chat approvals are not configured (DPQ_SLACK_SIGNING_SECRET)');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const headers = { timestamp: req.get('x-slack-request-timestamp'), signature: req.get('x-slack-signature') };
    const request = await handleSlackAction(ctx, secret, headers, body, String(res.locals.requestId ?? ''));
    res.json({ response_type: 'ephemeral', replace_original: false, text: `dpq: ${String(request.id)} is now ${String(request.status)}`, request });
  });
  return router;
}
