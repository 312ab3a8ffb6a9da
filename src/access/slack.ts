/**
 * Chat approvals (api.md, Reviews, alerts and chat approvals), Slack-compatible.
 *
 * Out: with DPQ_SLACK_SIGNING_SECRET set, every request notification carries Slack `blocks` — the
 * text, a link to the request in the console (DPQ_PUBLIC_URL) and, for a new pending request, a
 * reason field and Approve / Deny buttons (`action_id` `dpq_approve` / `dpq_deny`, `value` = the
 * request id).
 *
 * In: `POST /v1/integrations/slack/actions` takes Slack's interactivity payload (the form field
 * `payload`). It is accepted only with a valid `X-Slack-Signature` — `v0=` HMAC-SHA256 of
 * `v0:<X-Slack-Request-Timestamp>:<raw body>` under the signing secret, compared in constant time —
 * and a timestamp within 5 minutes of the service's clock, so a captured payload cannot be replayed
 * later. The Slack user becomes the principal whose `slackUserId` it is, and the action runs as
 * that principal's HTTP approve or deny would (the same N-of-M and self-approval rules, the same
 * audit entries). A denial needs a reason here too: the message's reason field.
 *
 * Every attempt, accepted or not, is audited as `integration.slack` (Slack user, action, request,
 * outcome and code — never the payload), and refusals change nothing: 401 for a bad signature, a
 * stale timestamp or an unknown Slack user; 403 for a request the user may not decide; 409 for one
 * no longer pending; 400 for a denial without a reason.
 */
import crypto from 'node:crypto';
import { recordAudit } from '../audit/record.ts';
import { DpqError, invalidRequest } from '../errors.ts';
import type { Principal } from '../policy/authorize.ts';
import type { Policy } from '../policy/schema.ts';
import type { AccessContext } from './context.ts';
import { approveRequest, denyRequest } from './lifecycle.ts';
import { REQUEST_ID } from './schemas.ts';
import { APPROVE_ACTION, DENY_ACTION, REASON_ACTION, REASON_BLOCK } from './slack-blocks.ts';

export const REPLAY_WINDOW_MS = 5 * 60_000;
export { APPROVE_ACTION, consoleLink, DENY_ACTION, REASON_ACTION, slackBlocks } from './slack-blocks.ts';

/** The `v0=` signature Slack sends for `body` at `timestamp`. */
export function slackSignature(secret: string, timestamp: string, body: string | Buffer): string {
  return `v0=${crypto.createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex')}`;
}

const unauthenticated = (message: string): DpqError => new DpqError('UNAUTHENTICATED', message);

/** Check signature and timestamp (constant-time comparison); throws 401 otherwise. */
export function verifySlackRequest(secret: string, headers: { timestamp?: string | undefined; signature?: string | undefined }, body: Buffer, now: Date): void {
  const ts = headers.timestamp;
  if (ts === undefined || !/^\d{1,12}$/.test(ts)) throw unauthenticated('missing or malformed X-Slack-Request-Timestamp');
  const expected = Buffer.from(slackSignature(secret, ts, body));
  const given = Buffer.from(headers.signature ?? '');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) throw unauthenticated('the Slack signature does not verify');
  if (Math.abs(now.getTime() - Number(ts) * 1000) > REPLAY_WINDOW_MS) throw unauthenticated('the Slack request timestamp is more than 5 minutes away: refused as a replay');
}

export interface SlackAction {
  readonly slackUserId: string;
  readonly actionId: string;
  readonly requestId: string;
  readonly reason: string | undefined;
}

/** The one button press of a `block_actions` payload. */
export function parseSlackAction(body: Buffer): SlackAction {
  const form = new URLSearchParams(body.toString('utf8'));
  let payload: unknown;
  try {
    payload = JSON.parse(form.get('payload') ?? '');
  } catch {
    throw invalidRequest('body.payload: not Slack interactivity JSON', { field: 'payload' });
  }
  const p = payload as { type?: unknown; user?: { id?: unknown }; actions?: { action_id?: unknown; value?: unknown }[]; state?: { values?: Record<string, Record<string, { value?: unknown }>> } };
  const action = Array.isArray(p.actions) ? p.actions[0] : undefined;
  if (p.type !== 'block_actions' || typeof p.user?.id !== 'string' || action === undefined) throw invalidRequest('body.payload: not a block_actions payload', { field: 'payload' });
  if (action.action_id !== APPROVE_ACTION && action.action_id !== DENY_ACTION) throw invalidRequest('body.payload: not a dpq action', { field: 'payload.actions' });
  if (typeof action.value !== 'string' || !REQUEST_ID.test(action.value)) throw invalidRequest('body.payload: the action names no access request', { field: 'payload.actions' });
  const reason = p.state?.values?.[REASON_BLOCK]?.[REASON_ACTION]?.value;
  return { slackUserId: p.user.id, actionId: action.action_id, requestId: action.value, reason: typeof reason === 'string' && reason.trim() !== '' ? reason.trim() : undefined };
}

export function principalOfSlackUser(policy: Policy, slackUserId: string): Principal | undefined {
  const found = Object.entries(policy.principals).find(([, p]) => p.slackUserId === slackUserId);
  return found === undefined ? undefined : Object.freeze({ name: found[0], roles: found[1].roles });
}

async function auditAttempt(ctx: AccessContext, httpRequestId: string, actor: string, fields: Record<string, unknown>, err: DpqError | undefined): Promise<void> {
  await recordAudit(ctx.services, [
    {
      actor,
      action: 'integration.slack',
      dataset: null,
      outcome: err === undefined ? 'ok' : 'refused',
      code: err?.code ?? null,
      requestId: typeof fields.requestId === 'string' ? fields.requestId : null,
      httpRequestId,
      details: fields,
    },
  ]).catch(() => undefined);
}

/** Verify, map and run one Slack button press; returns the request as it now is. */
export async function handleSlackAction(ctx: AccessContext, secret: string, headers: { timestamp?: string; signature?: string }, body: Buffer, httpRequestId: string): Promise<Record<string, unknown>> {
  const fields: Record<string, unknown> = {};
  let actor = 'slack';
  try {
    verifySlackRequest(secret, headers, body, ctx.services.clock.now());
    const a = parseSlackAction(body);
    Object.assign(fields, { slackUserId: a.slackUserId, slackAction: a.actionId, requestId: a.requestId });
    const principal = principalOfSlackUser(ctx.services.policy, a.slackUserId);
    if (principal === undefined) throw unauthenticated(`Slack user ${a.slackUserId} is no principal of the policy (slackUserId)`);
    actor = principal.name;
    const who = { principal, httpRequestId };
    let result: Record<string, unknown>;
    try {
      if (a.actionId === APPROVE_ACTION) result = await approveRequest(ctx, who, a.requestId, 'approved in Slack');
      else if (a.reason === undefined) throw invalidRequest('a reason is required to deny: write it in the reason field', { field: 'reason' });
      else result = await denyRequest(ctx, who, a.requestId, a.reason);
    } catch (err: unknown) {
      // A request this principal may not even see is, from a button, one it may not decide.
      if (err instanceof DpqError && err.code === 'NOT_FOUND') throw new DpqError('FORBIDDEN', `${principal.name} may not decide ${a.requestId}`);
      throw err;
    }
    await auditAttempt(ctx, httpRequestId, actor, fields, undefined);
    return result;
  } catch (err: unknown) {
    if (err instanceof DpqError) await auditAttempt(ctx, httpRequestId, actor, fields, err);
    throw err;
  }
}
