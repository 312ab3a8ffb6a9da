/** Reading requests: one by id, or the list a principal may see (api.md, JIT access). */
import { notFound } from '../errors.ts';
import { may, type Principal } from '../policy/authorize.ts';
import type { AccessContext } from './context.ts';
import { settleExpired } from './expiry.ts';
import { type AccessRequest, type Approval, effectiveStatus, requestView } from './model.ts';
import { approvalsOf, getRequest, listRequests } from './repository.ts';
import { requesterContext } from './requester-context.ts';
import { approverScopes, columnSensitivity, mayApprove, mayView } from './routing.ts';
import type { ListQuery } from './schemas.ts';

export function view(ctx: AccessContext, r: AccessRequest, approvals: readonly Approval[]): Record<string, unknown> {
  const v = requestView(r, approvals, ctx.services.clock.now(), ctx.services.policy.access.raw);
  return r.kind === 'raw' ? { ...v, columnSensitivity: scopeSensitivities(ctx, r) } : v;
}

/**
 * Each requested column's sensitivity for routing (`id` counts as quasi), so that a reviewer — who
 * may not query the dataset and so cannot read `/v1/datasets` — sees which columns are pii.
 */
function scopeSensitivities(ctx: AccessContext, r: AccessRequest): Record<string, string> {
  const dataset = Object.hasOwn(ctx.services.policy.datasets, r.dataset) ? ctx.services.policy.datasets[r.dataset] : undefined;
  const out: Record<string, string> = {};
  for (const ref of r.columns) {
    const [table, column] = ref.split('.');
    const t = dataset !== undefined && table !== undefined && Object.hasOwn(dataset.tables, table) ? dataset.tables[table] : undefined;
    const c = t !== undefined && column !== undefined && Object.hasOwn(t.columns, column) ? t.columns[column] : undefined;
    if (c !== undefined) out[ref] = columnSensitivity(c);
  }
  return out;
}

export async function viewOf(ctx: AccessContext, r: AccessRequest): Promise<Record<string, unknown>> {
  const approvals = await approvalsOf(ctx.services.state, [r.id]);
  return view(ctx, r, approvals.get(r.id) ?? []);
}

/** A pending request as one who may decide it sees it: with the requester's context (requester-context.ts). */
async function withContext(ctx: AccessContext, principal: Principal, r: AccessRequest, v: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (effectiveStatus(r, ctx.services.clock.now()) !== 'pending' || !mayApprove(ctx.services.policy, principal, r)) return v;
  return { ...v, requesterContext: await requesterContext(ctx, r) };
}

/** `GET /v1/access-requests/:id` — 404 for a request the caller may not see. */
export async function readRequest(ctx: AccessContext, principal: Principal, id: string): Promise<Record<string, unknown>> {
  await settleExpired(ctx);
  const r = await getRequest(ctx.services.state, id);
  if (r === undefined || !mayView(ctx.services.policy, principal, r)) throw notFound(`no access request ${id}`);
  return withContext(ctx, principal, r, await viewOf(ctx, r));
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
  return Promise.all(visible.map((r) => withContext(ctx, principal, r, view(ctx, r, approvals.get(r.id) ?? []))));
}
