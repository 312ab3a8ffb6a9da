/**
 * The JIT access state machine (docs/access.md):
 *
 *   create ─┬─ auto-approve rule / break-glass ─────────────▶ approved
 *           └─▶ pending ─┬─ N-th distinct approval ─────────▶ approved
 *                        ├─ one denial ─────────────────────▶ denied
 *                        ├─ requester cancels ──────────────▶ cancelled
 *                        └─ pendingTtl passes ──────────────▶ expired
 *   approved (raw) ─┬─ expiresAt passes ────────────────────▶ expired
 *                   ├─ approver / admin revokes ────────────▶ revoked
 *                   └─ requester cancels ───────────────────▶ cancelled
 *   approved (budget): final — the ε/δ was added to the ledger at approval.
 *   break-glass grants: an approver's `approve` records the review (status unchanged).
 *
 * Every transition runs in one state-store transaction that locks the request's row, re-checks
 * the state, writes the change and its audit entry (and for budget requests the ledger top-up);
 * notifications go out after the commit. Time-based transitions are computed at every read and
 * use (model.ts) and written by `settleExpired`, which each access endpoint runs first.
 */
import crypto from 'node:crypto';
import { appendAudit } from '../audit/log.ts';
import type { AuditEntryInput } from '../audit/entry.ts';
import { topUp } from '../budget/ledger.ts';
import { periodOf } from '../budget/period.ts';
import { conflict, DpqError, forbidden, invalidRequest, notFound } from '../errors.ts';
import { may, type Principal } from '../policy/authorize.ts';
import { formatDuration } from '../policy/duration.ts';
import type { StateQuery } from '../state/store.ts';
import { sqlStateOf } from '../warehouse/errors.ts';
import { requestEntry, SYSTEM_ACTOR } from './audit.ts';
import type { AccessContext } from './context.ts';
import { type AccessRequest, type Approval, effectiveStatus, requestView } from './model.ts';
import type { Notification, NotifyEvent } from './notify.ts';
import {
  approvalsOf,
  expireDue,
  getRequest,
  insertApproval,
  insertRequest,
  listRequests,
  lockOpenRequest,
  lockRequest,
  updateRequest,
} from './repository.ts';
import {
  approverScopes,
  holdsApproverRole,
  mayApprove,
  mayBreakGlass,
  mayRevoke,
  mayView,
  resolveColumns,
  routeRequest,
  scopeSensitivity,
} from './routing.ts';
import type { CreateBody, ListQuery } from './schemas.ts';

/** Default grant length when the body names none (capped by the rule or break-glass maximum). */
export const DEFAULT_DURATION_MS = 60 * 60_000;

export interface Actor {
  readonly principal: Principal;
  readonly httpRequestId: string;
}

interface Outcome {
  readonly request: AccessRequest;
  readonly notifications: readonly Notification[];
}

export function newRequestId(): string {
  return `ar_${crypto.randomBytes(16).toString('base64url')}`;
}

function view(ctx: AccessContext, r: AccessRequest, approvals: readonly Approval[]): Record<string, unknown> {
  return requestView(r, approvals, ctx.services.clock.now(), ctx.services.policy.access.raw);
}

async function viewOf(ctx: AccessContext, r: AccessRequest): Promise<Record<string, unknown>> {
  const approvals = await approvalsOf(ctx.services.state, [r.id]);
  return view(ctx, r, approvals.get(r.id) ?? []);
}

function announce(ctx: AccessContext, notifications: readonly Notification[]): void {
  for (const n of notifications) ctx.metrics.events.inc({ event: n.event });
  ctx.notifier.notify(notifications);
}

/**
 * Write down every expiry that is due (pending TTLs, grants' ends), with one audit entry each,
 * and announce them. Cheap when nothing is due (one UPDATE that matches no row).
 */
export async function settleExpired(ctx: AccessContext): Promise<void> {
  const now = ctx.services.clock.now();
  const expired = await ctx.services.state.transaction(async (tx) => {
    const rows = await expireDue(tx, now);
    await appendAudit(tx, now, rows.map((r) => requestEntry('access.expire', SYSTEM_ACTOR, r, 'ok', null, { details: { expiredAt: r.decidedAt?.toISOString() ?? null } })));
    return rows;
  });
  announce(ctx, expired.map((request) => ({ event: 'expired' as const, actor: SYSTEM_ACTOR, request })));
}

/** `POST /v1/access-requests` */
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

  let durationMs: number | null = null;
  if (body.kind === 'raw') {
    const max = breakGlass ? access.breakGlass!.maxDuration : rule.maxDuration;
    durationMs = body.durationMinutes !== undefined ? body.durationMinutes * 60_000 : Math.min(DEFAULT_DURATION_MS, max ?? DEFAULT_DURATION_MS);
    if (max !== undefined && durationMs > max) {
      throw invalidRequest(`body.durationMinutes: at most ${max / 60_000} minutes (${breakGlass ? 'access.breakGlass' : `access.rules[${index}]`}.maxDuration ${formatDuration(max)})`, {
        field: 'durationMinutes',
        maxMinutes: max / 60_000,
      });
    }
  } else {
    if (rule.maxEpsilon !== undefined && body.epsilon > rule.maxEpsilon) {
      throw invalidRequest(`body.epsilon: at most ${rule.maxEpsilon} (access.rules[${index}].maxEpsilon)`, { field: 'epsilon', maxEpsilon: rule.maxEpsilon });
    }
    if (rule.maxDelta !== undefined && body.delta > rule.maxDelta) {
      throw invalidRequest(`body.delta: at most ${rule.maxDelta} (access.rules[${index}].maxDelta)`, { field: 'delta', maxDelta: rule.maxDelta });
    }
  }
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
  try {
    await ctx.services.state.transaction(async (tx) => {
      const open = await lockOpenRequest(tx, principal.name, body.dataset, body.kind);
      if (open !== undefined && effectiveStatus(open, now) !== 'expired') throw openConflict(open);
      if (open !== undefined) await expireOne(tx, open, now, actor.httpRequestId);
      await insertRequest(tx, request);
      const entries: AuditEntryInput[] = [requestEntry('access.create', principal.name, request, 'ok', actor.httpRequestId)];
      if (request.kind === 'budget' && approved) entries.push(...(await applyTopUp(ctx, tx, request, now, principal.name, actor.httpRequestId)));
      await appendAudit(tx, now, entries);
    });
  } catch (err: unknown) {
    if (sqlStateOf(err) === '23505') throw conflict(`an open ${body.kind} request of ${principal.name} on ${body.dataset} already exists`);
    throw err;
  }
  const events: Notification[] = breakGlass
    ? [{ event: 'break-glass', actor: principal.name, request }]
    : auto
      ? [{ event: 'created', actor: principal.name, request }, { event: 'approved', actor: SYSTEM_ACTOR, request }]
      : [{ event: 'created', actor: principal.name, request }];
  announce(ctx, events);
  return view(ctx, request, []);
}

function openConflict(open: AccessRequest): DpqError {
  return conflict(`an open ${open.kind} request on ${open.dataset} already exists (${open.id}, ${open.status}); cancel it first`, { openRequestId: open.id });
}

/** An expiry found inside another transaction (the sweep had not seen it yet). */
async function expireOne(tx: StateQuery, r: AccessRequest, now: Date, httpRequestId: string): Promise<AccessRequest> {
  const at = r.status === 'pending' ? r.pendingUntil : r.expiresAt!;
  const expired = await updateRequest(tx, r.id, { status: 'expired', decidedAt: at });
  await appendAudit(tx, now, [requestEntry('access.expire', SYSTEM_ACTOR, expired, 'ok', httpRequestId, { details: { expiredAt: at.toISOString() } })]);
  return expired;
}

/** Add an approved budget request's ε/δ to the requester's limit for the current period. */
async function applyTopUp(ctx: AccessContext, tx: StateQuery, r: AccessRequest, now: Date, actor: string, httpRequestId: string): Promise<AuditEntryInput[]> {
  const dataset = ctx.services.policy.datasets[r.dataset]!;
  const period = periodOf(dataset.budget.renew, now).key;
  const amount = { epsilon: r.epsilon ?? 0, delta: r.delta ?? 0 };
  await topUp(tx, { principal: r.requester, dataset: r.dataset, period }, amount, r.id, now);
  return [
    {
      actor,
      action: 'budget.topup',
      dataset: r.dataset,
      outcome: 'ok',
      epsilon: amount.epsilon,
      delta: amount.delta,
      requestId: r.id,
      httpRequestId,
      details: { principal: r.requester, period, justification: r.justification, ticket: r.ticket },
    },
  ];
}

type Transition = (tx: StateQuery, r: AccessRequest, now: Date) => Promise<{ request: AccessRequest; entries: AuditEntryInput[]; events: NotifyEvent[] }>;

/**
 * Run one review action on a locked request. A refusal (403/409) on a request the caller can see
 * is audited too, in its own transaction, since the action's transaction is rolled back.
 */
async function transition(ctx: AccessContext, actor: Actor, id: string, action: string, step: Transition): Promise<Record<string, unknown>> {
  await settleExpired(ctx);
  const { state, clock, policy } = ctx.services;
  const now = clock.now();
  let seen: AccessRequest | undefined;
  let outcome: Outcome;
  try {
    outcome = await state.transaction(async (tx) => {
      const r = await lockRequest(tx, id);
      if (r === undefined || !mayView(policy, actor.principal, r)) throw notFound(`no access request ${id}`);
      seen = r;
      const current = effectiveStatus(r, now) === 'expired' && r.status !== 'expired' ? await expireOne(tx, r, now, actor.httpRequestId) : r;
      const done = await step(tx, current, now);
      await appendAudit(tx, now, done.entries);
      return { request: done.request, notifications: done.events.map((event) => ({ event, actor: actor.principal.name, request: done.request })) };
    });
  } catch (err: unknown) {
    if (seen !== undefined && err instanceof DpqError && (err.code === 'FORBIDDEN' || err.code === 'CONFLICT')) {
      const r = seen;
      await state
        .transaction((tx) => appendAudit(tx, now, [requestEntry(action, actor.principal.name, r, 'refused', actor.httpRequestId, { code: err.code, details: { refusal: err.message } })]))
        .catch(() => undefined);
    }
    throw err;
  }
  announce(ctx, outcome.notifications);
  return viewOf(ctx, outcome.request);
}

const notStatus = (r: AccessRequest, what: string): DpqError => conflict(`cannot ${what} a request that is ${r.status}`, { status: r.status });

/** `POST /v1/access-requests/:id/approve` — an approval, or the review of a break-glass grant. */
export function approveRequest(ctx: AccessContext, actor: Actor, id: string, comment: string | undefined): Promise<Record<string, unknown>> {
  const { policy } = ctx.services;
  const me = actor.principal;
  return transition(ctx, actor, id, 'access.approve', async (tx, r, now) => {
    if (me.name === r.requester) throw forbidden('the requester can never approve its own request, whatever its roles');
    if (!mayApprove(policy, me, r)) throw forbidden(`approving this request needs the role ${r.approverRole} with the approve action on ${r.dataset}`);
    if (r.breakGlass) {
      if (r.reviewedAt !== null) throw conflict(`this break-glass grant was already reviewed by ${r.reviewedBy ?? 'someone'}`);
      const request = await updateRequest(tx, r.id, { reviewedAt: now, reviewedBy: me.name });
      return {
        request,
        entries: [requestEntry('access.review', me.name, request, 'ok', actor.httpRequestId, { details: { comment: comment ?? null, overdue: now.getTime() > r.reviewDueAt!.getTime() } })],
        events: ['reviewed'],
      };
    }
    if (r.status !== 'pending') throw notStatus(r, 'approve');
    const approvals = (await approvalsOf(tx, [r.id])).get(r.id) ?? [];
    if (approvals.some((a) => a.approver === me.name)) throw conflict(`${me.name} has already approved this request`);
    await insertApproval(tx, r.id, me.name, now, comment ?? null);
    const count = approvals.length + 1;
    const entries: AuditEntryInput[] = [];
    let request = r;
    const events: NotifyEvent[] = [];
    if (count >= r.requiredApprovals) {
      request = await updateRequest(tx, r.id, {
        status: 'approved',
        approvedAt: now,
        decidedAt: now,
        decidedBy: me.name,
        ...(r.kind === 'raw' && r.durationMs !== null ? { expiresAt: new Date(now.getTime() + r.durationMs) } : {}),
      });
      events.push('approved');
    }
    entries.unshift(
      requestEntry('access.approve', me.name, request, 'ok', actor.httpRequestId, {
        details: { approvals: count, comment: comment ?? null },
      }),
    );
    if (request.kind === 'budget' && request.status === 'approved') entries.push(...(await applyTopUp(ctx, tx, request, now, me.name, actor.httpRequestId)));
    return { request, entries, events };
  });
}

/** `POST /v1/access-requests/:id/deny` — one denial denies. */
export function denyRequest(ctx: AccessContext, actor: Actor, id: string, reason: string | undefined): Promise<Record<string, unknown>> {
  const me = actor.principal;
  return transition(ctx, actor, id, 'access.deny', async (tx, r, now) => {
    if (me.name === r.requester) throw forbidden('the requester cannot deny its own request; cancel it instead');
    if (!mayApprove(ctx.services.policy, me, r)) throw forbidden(`denying this request needs the role ${r.approverRole} with the approve action on ${r.dataset}`);
    if (r.status !== 'pending') throw notStatus(r, 'deny');
    const request = await updateRequest(tx, r.id, { status: 'denied', decidedAt: now, decidedBy: me.name, reason: reason ?? null });
    return { request, entries: [requestEntry('access.deny', me.name, request, 'denied', actor.httpRequestId, { details: { reason: reason ?? null } })], events: ['denied'] };
  });
}

/** `POST /v1/access-requests/:id/revoke` — end an active raw grant now, on every replica. */
export function revokeRequest(ctx: AccessContext, actor: Actor, id: string, reason: string | undefined): Promise<Record<string, unknown>> {
  const { policy } = ctx.services;
  const me = actor.principal;
  return transition(ctx, actor, id, 'access.revoke', async (tx, r, now) => {
    if (me.name === r.requester) throw forbidden('the requester ends its own grant with /cancel');
    if (!mayRevoke(policy, me, r)) throw forbidden(`revoking needs the role ${r.approverRole} on ${r.dataset}, or the admin action`);
    if (r.kind === 'budget') throw conflict('a budget request cannot be revoked: an approved top-up is final', { status: r.status });
    if (r.status !== 'approved') throw notStatus(r, 'revoke');
    // A break-glass grant revoked by someone who may review it counts as reviewed.
    const review = r.breakGlass && r.reviewedAt === null && holdsApproverRole(policy, me, r.approverRole, r.dataset);
    const request = await updateRequest(tx, r.id, {
      status: 'revoked',
      decidedAt: now,
      decidedBy: me.name,
      reason: reason ?? null,
      ...(review ? { reviewedAt: now, reviewedBy: me.name } : {}),
    });
    return { request, entries: [requestEntry('access.revoke', me.name, request, 'ok', actor.httpRequestId, { details: { reason: reason ?? null, reviewed: review } })], events: ['revoked'] };
  });
}

/** `POST /v1/access-requests/:id/cancel` — the requester withdraws a pending request or ends its grant. */
export function cancelRequest(ctx: AccessContext, actor: Actor, id: string, reason: string | undefined): Promise<Record<string, unknown>> {
  const me = actor.principal;
  return transition(ctx, actor, id, 'access.cancel', async (tx, r, now) => {
    if (me.name !== r.requester) throw forbidden('only the requester may cancel a request; approvers deny or revoke');
    if (!(r.status === 'pending' || (r.status === 'approved' && r.kind === 'raw'))) throw notStatus(r, 'cancel');
    const request = await updateRequest(tx, r.id, { status: 'cancelled', decidedAt: now, decidedBy: me.name, reason: reason ?? null });
    return { request, entries: [requestEntry('access.cancel', me.name, request, 'ok', actor.httpRequestId, { details: { reason: reason ?? null } })], events: ['cancelled'] };
  });
}

/** `GET /v1/access-requests/:id` — 404 for a request the caller may not see. */
export async function readRequest(ctx: AccessContext, principal: Principal, id: string): Promise<Record<string, unknown>> {
  await settleExpired(ctx);
  const r = await getRequest(ctx.services.state, id);
  if (r === undefined || !mayView(ctx.services.policy, principal, r)) throw notFound(`no access request ${id}`);
  return viewOf(ctx, r);
}

/** `GET /v1/access-requests` — the caller's own requests and those it may approve (everything for admins and auditors). */
export async function listVisible(ctx: AccessContext, principal: Principal, q: ListQuery): Promise<Record<string, unknown>[]> {
  await settleExpired(ctx);
  const { policy, clock, state } = ctx.services;
  const now = clock.now();
  const seesAll = may(policy, principal, 'admin') || may(policy, principal, 'audit');
  const rows = await listRequests(state, {
    status: q.status,
    kind: q.kind,
    dataset: q.dataset,
    requester: q.mine ? principal.name : undefined,
    overdueAt: q.overdue ? now : undefined,
    visibleTo: seesAll ? undefined : { name: principal.name, approverScopes: approverScopes(policy, principal) },
    limit: q.limit,
  });
  const visible = rows.filter((r) => mayView(policy, principal, r) && (q.status === undefined || effectiveStatus(r, now) === q.status));
  const approvals = await approvalsOf(state, visible.map((r) => r.id));
  return visible.map((r) => view(ctx, r, approvals.get(r.id) ?? []));
}
