/**
 * `POST /v1/access-requests`: validate against the policy (the requester may `request` on the
 * dataset — or holds a break-glass role —, columns exist, duration within the rule, ticket when
 * required, ε/δ within the rule), route by the first matching rule, decide auto-approval, and
 * insert — with at most one open request per (requester, dataset, kind), also across replicas
 * (row lock plus a partial unique index as the backstop).
 */
import { auditedTransaction } from '../audit/record.ts';
import type { AuditEntryInput } from '../audit/entry.ts';
import { conflict, type DpqError, forbidden, invalidRequest, notFound } from '../errors.ts';
import { may } from '../policy/authorize.ts';
import { isUniqueViolation } from '../state/store.ts';
import { requestEntry, SYSTEM_ACTOR } from './audit.ts';
import { type AccessContext, type Actor, announce } from './context.ts';
import { expireOne, settleExpired } from './expiry.ts';
import { type AccessRequest, effectiveStatus } from './model.ts';
import type { Notification } from './notify.ts';
import { view } from './read.ts';
import { insertRequest, lockOpenRequest } from './repository.ts';
import { mayBreakGlass, resolveColumns, routeRequest, scopeSensitivity } from './routing.ts';
import type { CreateBody } from './schemas.ts';
import { applyTopUp } from './topup.ts';
import { createExtension } from './extend.ts';
import { autoApproves, newRequestId, rawDuration } from './request-rules.ts';

/** `POST /v1/access-requests` */
export async function createRequest(ctx: AccessContext, actor: Actor, body: CreateBody): Promise<Record<string, unknown>> {
  if (body.kind === 'raw' && body.extends !== undefined) return createExtension(ctx, actor, { ...body, extends: body.extends });
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

  let durationMs: number | null = null;
  if (body.kind === 'raw') {
    durationMs = rawDuration(body.durationMinutes, breakGlass ? access.breakGlass!.maxDuration : rule.maxDuration, breakGlass ? 'access.breakGlass' : `access.rules[${index}]`);
  } else {
    if (rule.maxEpsilon !== undefined && body.epsilon > rule.maxEpsilon) {
      throw invalidRequest(`body.epsilon: at most ${rule.maxEpsilon} (access.rules[${index}].maxEpsilon)`, { field: 'epsilon', maxEpsilon: rule.maxEpsilon });
    }
    if (rule.maxDelta !== undefined && body.delta > rule.maxDelta) {
      throw invalidRequest(`body.delta: at most ${rule.maxDelta} (access.rules[${index}].maxDelta)`, { field: 'delta', maxDelta: rule.maxDelta });
    }
  }
  const auto = !breakGlass && autoApproves(rule, principal, durationMs);

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
    revealsUsed: 0,
    extends: null,
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
