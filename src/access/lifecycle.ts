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
import { auditedTransaction, recordAudit } from '../audit/record.ts';
import type { AuditEntryInput } from '../audit/entry.ts';
import { conflict, DpqError, forbidden, notFound } from '../errors.ts';
import type { StateQuery } from '../state/store.ts';
import { requestEntry, SYSTEM_ACTOR } from './audit.ts';
import { type AccessContext, type Actor, announce } from './context.ts';
import { expireOne, settleExpired } from './expiry.ts';
import { type AccessRequest, effectiveStatus } from './model.ts';
import type { Notification, NotifyEvent } from './notify.ts';
import { viewOf } from './read.ts';
import { approvalsOf, insertApproval, lockRequest, updateRequest } from './repository.ts';
import { holdsApproverRole, mayApprove, mayRevoke, mayView } from './routing.ts';
import { applyTopUp } from './topup.ts';
import { applyExtension } from './extend.ts';

interface Outcome {
  readonly request: AccessRequest;
  readonly notifications: readonly Notification[];
}

type Transition = (tx: StateQuery, r: AccessRequest, now: Date) => Promise<{ request: AccessRequest; entries: AuditEntryInput[]; events: NotifyEvent[] }>;

/**
 * Run one review action on a locked request. A refusal (403/409) on a request the caller can see
 * is audited too, in its own transaction, since the action's transaction is rolled back.
 */
async function transition(ctx: AccessContext, actor: Actor, id: string, action: string, step: Transition): Promise<Record<string, unknown>> {
  await settleExpired(ctx);
  const { clock, policy } = ctx.services;
  const now = clock.now();
  let seen: AccessRequest | undefined;
  let outcome: Outcome;
  try {
    outcome = await auditedTransaction(ctx.services, async (tx, record) => {
      const r = await lockRequest(tx, id);
      if (r === undefined || !mayView(policy, actor.principal, r)) throw notFound(`no access request ${id}`);
      seen = r;
      const lapsed = effectiveStatus(r, now) === 'expired' && r.status !== 'expired';
      const current = lapsed ? await expireOne(tx, record, r, now, actor.httpRequestId) : r;
      const done = await step(tx, current, now);
      await record(done.entries);
      const notifications: Notification[] = lapsed ? [{ event: 'expired', actor: SYSTEM_ACTOR, request: current }] : [];
      for (const event of done.events) notifications.push({ event, actor: actor.principal.name, request: done.request });
      return { request: done.request, notifications };
    });
  } catch (err: unknown) {
    if (seen !== undefined && err instanceof DpqError && (err.code === 'FORBIDDEN' || err.code === 'CONFLICT')) {
      const r = seen;
      await recordAudit(ctx.services, [requestEntry(action, actor.principal.name, r, 'refused', actor.httpRequestId, { code: err.code, details: { refusal: err.message } })]).catch(() => undefined);
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
        ...(r.kind === 'raw' && r.durationMs !== null && r.extends === null ? { expiresAt: new Date(now.getTime() + r.durationMs) } : {}),
      });
      if (r.extends !== null) {
        const applied = await applyExtension(tx, request, now, me.name, actor.httpRequestId);
        request = applied.extension;
        entries.push(...applied.entries);
      }
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
export function denyRequest(ctx: AccessContext, actor: Actor, id: string, reason: string): Promise<Record<string, unknown>> {
  const me = actor.principal;
  return transition(ctx, actor, id, 'access.deny', async (tx, r, now) => {
    if (me.name === r.requester) throw forbidden('the requester cannot deny its own request; cancel it instead');
    if (!mayApprove(ctx.services.policy, me, r)) throw forbidden(`denying this request needs the role ${r.approverRole} with the approve action on ${r.dataset}`);
    if (r.status !== 'pending') throw notStatus(r, 'deny');
    const request = await updateRequest(tx, r.id, { status: 'denied', decidedAt: now, decidedBy: me.name, reason });
    return { request, entries: [requestEntry('access.deny', me.name, request, 'denied', actor.httpRequestId, { details: { reason } })], events: ['denied'] };
  });
}

/** `POST /v1/access-requests/:id/revoke` — end an active raw grant now, on every replica. */
export function revokeRequest(ctx: AccessContext, actor: Actor, id: string, reason: string): Promise<Record<string, unknown>> {
  const { policy } = ctx.services;
  const me = actor.principal;
  return transition(ctx, actor, id, 'access.revoke', async (tx, r, now) => {
    if (me.name === r.requester) throw forbidden('the requester ends its own grant with /cancel');
    if (!mayRevoke(policy, me, r)) throw forbidden(`revoking needs the role ${r.approverRole} on ${r.dataset}, or the admin action`);
    if (r.kind === 'budget') throw conflict('a budget request cannot be revoked: an approved top-up is final', { status: r.status });
    if (r.extends !== null) throw conflict(`an extension is not a grant of its own: revoke the grant ${r.extends}`, { status: r.status });
    if (r.status !== 'approved') throw notStatus(r, 'revoke');
    // A break-glass grant revoked by someone who may review it counts as reviewed.
    const review = r.breakGlass && r.reviewedAt === null && holdsApproverRole(policy, me, r.approverRole, r.dataset);
    const request = await updateRequest(tx, r.id, {
      status: 'revoked',
      decidedAt: now,
      decidedBy: me.name,
      reason,
      ...(review ? { reviewedAt: now, reviewedBy: me.name } : {}),
    });
    return { request, entries: [requestEntry('access.revoke', me.name, request, 'ok', actor.httpRequestId, { details: { reason, reviewed: review } })], events: ['revoked'] };
  });
}

/** `POST /v1/access-requests/:id/cancel` — the requester withdraws a pending request or ends its grant. */
export function cancelRequest(ctx: AccessContext, actor: Actor, id: string, reason: string | undefined): Promise<Record<string, unknown>> {
  const me = actor.principal;
  return transition(ctx, actor, id, 'access.cancel', async (tx, r, now) => {
    if (me.name !== r.requester) throw forbidden('only the requester may cancel a request; approvers deny or revoke');
    if (!(r.status === 'pending' || (r.status === 'approved' && r.kind === 'raw' && r.extends === null))) throw notStatus(r, 'cancel');
    const request = await updateRequest(tx, r.id, { status: 'cancelled', decidedAt: now, decidedBy: me.name, reason: reason ?? null });
    return { request, entries: [requestEntry('access.cancel', me.name, request, 'ok', actor.httpRequestId, { details: { reason: reason ?? null } })], events: ['cancelled'] };
  });
}
