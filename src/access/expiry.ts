/**
 * Time-based transitions written down: a pending request past its TTL and a raw grant past
 * `expiresAt` become `expired`, with one audit entry and one notification each. The decision
 * itself is made from the clock at every read and use (model.ts `effectiveStatus`); this only
 * records it, lazily — every access endpoint runs `settleExpired` first — so that no timer is
 * needed and every replica agrees.
 */
import { auditedTransaction, type RecordAudit } from '../audit/record.ts';
import type { StateQuery } from '../state/store.ts';
import { requestEntry, SYSTEM_ACTOR } from './audit.ts';
import { type AccessContext, announce } from './context.ts';
import type { AccessRequest } from './model.ts';
import { expireDue, updateRequest } from './repository.ts';

/**
 * Write down every expiry that is due (pending TTLs, grants' ends), with one audit entry each,
 * and announce them. Cheap when nothing is due (one UPDATE that matches no row).
 */
export async function settleExpired(ctx: AccessContext): Promise<void> {
  const now = ctx.services.clock.now();
  const expired = await auditedTransaction(ctx.services, async (tx, record) => {
    const rows = await expireDue(tx, now);
    await record(rows.map((r) => requestEntry('access.expire', SYSTEM_ACTOR, r, 'ok', null, { details: { expiredAt: r.decidedAt?.toISOString() ?? null } })));
    return rows;
  });
  announce(ctx, expired.map((request) => ({ event: 'expired' as const, actor: SYSTEM_ACTOR, request })));
}

/** An expiry found inside another transaction (the sweep had not seen it yet). */
export async function expireOne(tx: StateQuery, record: RecordAudit, r: AccessRequest, now: Date, httpRequestId: string): Promise<AccessRequest> {
  const at = r.status === 'pending' ? r.pendingUntil : r.expiresAt!;
  const expired = await updateRequest(tx, r.id, { status: 'expired', decidedAt: at });
  await record([requestEntry('access.expire', SYSTEM_ACTOR, expired, 'ok', httpRequestId, { details: { expiredAt: at.toISOString() } })]);
  return expired;
}
