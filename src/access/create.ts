/**
 * `POST /v1/access-requests`: validate against the policy (the requester may `request` on the
 * dataset — or holds a break-glass role —, columns exist, duration within the rule, ticket when
 * required, ε/δ within the rule), route by the first matching rule, decide auto-approval, and
 * insert — with at most one open request per (requester, dataset, kind), also across replicas
 * (row lock plus a partial unique index as the backstop).
 */
import crypto from 'node:crypto';
import { auditedTransaction } from '../audit/record.ts';
import type { AuditEntryInput } from '../audit/entry.ts';
import { conflict, type DpqError, forbidden, invalidRequest, notFound } from '../errors.ts';
import { may } from '../policy/authorize.ts';
import { formatDuration } from '../policy/duration.ts';
import { isUniqueViolation } from '../state/store.ts';
import { requestEntry, SYSTEM_ACTOR } from './audit.ts';
import { type AccessContext, type Actor, announce } from './context.ts';
import { expireOne, settleExpired } from './expiry.ts';
import { type AccessRequest, effectiveStatus } from './model.ts';
import type { Notification } from './notify.ts';
import { view } from './read.ts';
import { insertRequest, lockOpenRequest } from './repository.ts';
import { mayBreakGlass, resolveColumns, routeRequest, type RoutedRule, scopeSensitivity } from './routing.ts';
import type { CreateBody } from './schemas.ts';
import { applyTopUp } from './topup.ts';

/** Default grant length when the body names none (capped by the rule or break-glass maximum). */
export const DEFAULT_DURATION_MS = 60 * 60_000;

export function newRequestId(): string {
  return `ar_${crypto.randomBytes(16).toString('base64url')}`;
}

/** `POST /v1/access-requests` */
/**
 * The routed rule's limits on the request (or the break-glass maximum duration): a raw grant's
 * duration (returned, defaulted), a budget request's ε and δ (null duration).
 */
function checkRuleLimits(body: CreateBody, { rule, index }: RoutedRule, breakGlassMax: number | undefined): number | null {
  if (body.kind === 'raw') {
    const breakGlass = body.breakGlass;
    const max = breakGlass ? breakGlassMax : rule.maxDuration;
    const durationMs = body.durationMinutes !== undefined ? body.durationMinutes * 60_000 : Math.min(DEFAULT_DURATION_MS, max ?? DEFAULT_DURATION_MS);
    if (max !== undefined && durationMs > max) {
      throw invalidRequest(`body.durationMinutes: at most ${max / 60_000} minutes (${breakGlass ? 'access.breakGlass' : `access.rules[${index}]`}.maxDuration ${formatDuration(max)})`, {
        field: 'durationMinutes',
        maxMinutes: max / 60_000,
      });
    }
    return durationMs;
  }
  if (rule.maxEpsilon !== undefined && body.epsilon > rule.maxEpsilon) {
    throw invalidRequest(`body.epsilon: at most ${rule.maxEpsilon} (access.rules[${index}].maxEpsilon)`, { field: 'epsilon', maxEpsilon: rule.maxEpsilon });
  }
  if (rule.maxDelta !== undefined && body.delta > rule.maxDelta) {
    throw invalidRequest(`body.delta: at most ${rule.maxDelta} (access.rules[${index}].maxDelta)`, { field: 'delta', maxDelta: rule.maxDelta });
  }
  return null;
}

export async function createRequest(ctx: AccessContext, actor: Actor, body: CreateBody): Promise<Record<string, unknown>> {
  const { policy, clock } = ctx.services;
  const { principal } = actor;
  const access = policy.access;
  if (!Object.hasOwn(policy.datasets, body.dataset)) throw notFound(`unknown dataset "${body.dataset}"`);
  const dataset = policy.datasets[body.dataset]!;
  const breakGlass = body.kind === 'raw' && body.breakGlass;
  if (breakGlass) {
    if (!mayBreakGlass(policy, principal, body.dataset)) {
      throw forbidden(`break-glass access to ${body.dataset} needs one of the roles in access.breakGlass.roles`, { roles: access.breakGlass?.roles ?? [] });
    }
  } else if (!may(policy, principal, 'request', body.dataset)) {
    throw forbidden(`this principal may not request access to ${body.dataset}`);
  }
  const columns = body.kind === 'raw' ? resolveColumns(dataset, body.columns) : [];
  const sensitivity = scopeSensitivity(columns);
  const routed = routeRequest(policy, body.kind, body.dataset, sensitivity);
  if (routed === undefined) {
    throw forbidden(`no access rule covers a ${body.kind} request${body.kind === 'raw' ? ` with ${sensitivity} columns` : ''} on ${body.dataset}`);
  }
  const { rule, index } = routed;
  if (access.requireTicket && body.ticket === undefined) throw invalidRequest('body.ticket: the policy requires a ticket id', { field: 'ticket' });

  const durationMs = checkRuleLimits(body, routed, breakGlass ? access.breakGlass!.maxDuration : undefined);
  const auto =
    !breakGlass &&
    rule.autoApprove !== undefined &&
    principal.roles.some((r) => rule.autoApprove!.roles.includes(r)) &&
    (durationMs === null || rule.autoApprove.maxDuration === undefined || durationMs <= rule.autoApprove.maxDuration);

  const now = clock.now();
  const approved = breakGlass || auto;
  const request: AccessRequest = {
    id: newRequestId(),
    kind: body.kind,
    dataset: body.dataset,
    requester: principal.name,
    status: approved ? 'approved' : 'pending',
    columns: columns.map((c) => c.ref),
    sensitivity,
    epsilon: body.kind === 'budget' ? body.epsilon : null,
    delta: body.kind === 'budget' ? body.delta : null,
    justification: body.justification.trim(),
    ticket: body.ticket ?? null,
    durationMs,
    breakGlass,
    autoApproved: auto,
    ruleIndex: index,
    approverRole: rule.approverRole,
    requiredApprovals: approved ? 0 : rule.approvals,
    createdAt: now,
    pendingUntil: new Date(now.getTime() + access.pendingTtl),
    approvedAt: approved ? now : null,
    expiresAt: approved && durationMs !== null ? new Date(now.getTime() + durationMs) : null,
    decidedAt: approved ? now : null,
    decidedBy: breakGlass ? principal.name : null,
    reason: null,
    reviewDueAt: breakGlass ? new Date(now.getTime() + access.breakGlass!.reviewWithin) : null,
    reviewedAt: null,
    reviewedBy: null,
    queriesUsed: 0,
    rowsUsed: 0,
  };

  await settleExpired(ctx);
  let expired: AccessRequest | undefined;
  try {
    expired = await auditedTransaction(ctx.services, async (tx, record) => {
      const open = await lockOpenRequest(tx, principal.name, body.dataset, body.kind);
      if (open !== undefined && effectiveStatus(open, now) !== 'expired') throw openConflict(open);
      const done = open === undefined ? undefined : await expireOne(tx, record, open, now, actor.httpRequestId);
      await insertRequest(tx, request);
      const entries: AuditEntryInput[] = [requestEntry('access.create', principal.name, request, 'ok', actor.httpRequestId)];
      if (request.kind === 'budget' && approved) entries.push(...(await applyTopUp(ctx, tx, request, now, principal.name, actor.httpRequestId)));
      await record(entries);
      return done;
    });
  } catch (err: unknown) {
    if (isUniqueViolation(err)) throw conflict(`an open ${body.kind} request of ${principal.name} on ${body.dataset} already exists`);
    throw err;
  }
  const events: Notification[] = [];
  if (expired !== undefined) events.push({ event: 'expired', actor: SYSTEM_ACTOR, request: expired });
  events.push({ event: breakGlass ? 'break-glass' : 'created', actor: principal.name, request });
  if (auto) events.push({ event: 'approved', actor: SYSTEM_ACTOR, request });
  announce(ctx, events);
  return view(ctx, request, []);
}

function openConflict(open: AccessRequest): DpqError {
  return conflict(`an open ${open.kind} request on ${open.dataset} already exists (${open.id}, ${open.status}); cancel it first`, { openRequestId: open.id });
}
