/**
 * Access reviews (api.md, Reviews, alerts and chat approvals): `GET /v1/access-reviews?from=&to=`
 * and `npx dpq access review`. For a period, from the state store:
 *
 * - per principal, the raw grants held — active at some time in the period — with their scope,
 *   from (approval) and until (the end: expiry, revocation or cancellation), the rows read, raw
 *   queries run and tokens revealed under them (over the grant's whole life), and `unused: true`
 *   for a grant under which nothing was ever read or revealed; and the budget top-ups approved in
 *   the period;
 * - break-glass grants not reviewed yet, awaiting (due later) or overdue, whenever made;
 * - per policy, the access rules that routed no request in the period, and the roles no holder
 *   exercised: a role counts as exercised when one of its holders made an audited use of one of
 *   its actions on a dataset the role covers (`query`: aggregate queries; `request`: requests,
 *   raw queries, reveals; `approve`: approvals, denials, reviews, revocations; `admin`:
 *   revocations and break-glass grants). Reading the audit log and metrics leaves no audit entry,
 *   so roles with only those actions are listed as `notObservable` rather than unused.
 */
import { may, type Principal } from '../policy/authorize.ts';
import type { Action, Policy } from '../policy/schema.ts';
import type { StateQuery } from '../state/store.ts';
import { type AccessRequest, isOverdue } from './model.ts';
import { selectRequests } from './repository.ts';

/** Which audited actions show which role action in use. */
const EVIDENCE: Readonly<Record<string, readonly Action[]>> = {
  query: ['query'],
  'access.create': ['request', 'admin'],
  'access.raw_query': ['request', 'admin'],
  'access.reveal': ['request', 'admin'],
  'access.approve': ['approve'],
  'access.deny': ['approve'],
  'access.review': ['approve'],
  'access.revoke': ['approve', 'admin'],
  'access.extend': ['request'],
};
const OBSERVABLE: readonly Action[] = ['query', 'request', 'approve', 'admin'];

export interface Period {
  readonly from: Date;
  readonly to: Date;
}

/** Where a grant stopped (or will): revoked or cancelled when decided, else its expiry. */
function endOf(r: AccessRequest): Date | null {
  if (r.status === 'revoked' || r.status === 'cancelled') return r.decidedAt;
  return r.expiresAt;
}

function grantView(r: AccessRequest): Record<string, unknown> {
  return {
    id: r.id,
    dataset: r.dataset,
    columns: [...r.columns],
    from: r.approvedAt?.toISOString() ?? null,
    until: endOf(r)?.toISOString() ?? null,
    status: r.status,
    breakGlass: r.breakGlass,
    rowsRead: r.rowsUsed,
    queries: r.queriesUsed,
    reveals: r.revealsUsed,
    unused: r.queriesUsed === 0 && r.revealsUsed === 0,
  };
}

async function grantsHeld(db: StateQuery, p: Period): Promise<AccessRequest[]> {
  return selectRequests(
    db,
    `kind = 'raw' AND extends IS NULL AND approved_at IS NOT NULL AND approved_at <= $2::timestamptz
     AND COALESCE(CASE WHEN status IN ('revoked', 'cancelled') THEN decided_at END, expires_at) > $1::timestamptz`,
    [p.from.toISOString(), p.to.toISOString()],
  );
}

/** Per actor, the audited actions of the period with the datasets they touched. */
async function activity(db: StateQuery, p: Period): Promise<{ actor: string; action: string; dataset: string | null }[]> {
  const r = await db.query<{ actor: string; action: string; dataset: string | null }>(
    `SELECT DISTINCT entry::jsonb ->> 'actor' AS actor, entry::jsonb ->> 'action' AS action, entry::jsonb ->> 'dataset' AS dataset
       FROM dpq.audit_log WHERE at >= $1::timestamptz AND at <= $2::timestamptz`,
    [p.from.toISOString(), p.to.toISOString()],
  );
  return r.rows;
}

function roleUse(policy: Policy, used: readonly { actor: string; action: string; dataset: string | null }[]): Record<string, unknown> {
  const exercised = new Set<string>();
  for (const u of used) {
    const actions = EVIDENCE[u.action];
    const holder = Object.hasOwn(policy.principals, u.actor) ? policy.principals[u.actor]! : undefined;
    if (actions === undefined || holder === undefined) continue;
    for (const role of holder.roles) {
      const single: Principal = { name: u.actor, roles: [role] };
      if (actions.some((a) => may(policy, single, a, u.dataset ?? undefined))) exercised.add(role);
    }
  }
  const names = Object.keys(policy.roles).sort();
  const observable = (r: string): boolean => policy.roles[r]!.may.some((a) => OBSERVABLE.includes(a));
  return {
    rolesNeverExercised: names.filter((r) => observable(r) && !exercised.has(r)),
    rolesExercised: names.filter((r) => exercised.has(r)),
    notObservable: names.filter((r) => !observable(r)),
  };
}

export async function accessReview(db: StateQuery, policy: Policy, p: Period, now: Date): Promise<Record<string, unknown>> {
  const grants = await grantsHeld(db, p);
  const topUps = await selectRequests(db, `kind = 'budget' AND status = 'approved' AND approved_at >= $1::timestamptz AND approved_at <= $2::timestamptz`, [p.from.toISOString(), p.to.toISOString()]);
  const unreviewed = await selectRequests(db, `break_glass AND reviewed_at IS NULL AND approved_at IS NOT NULL`, []);
  const matched = new Set((await selectRequests(db, `created_at >= $1::timestamptz AND created_at <= $2::timestamptz`, [p.from.toISOString(), p.to.toISOString()])).map((r) => r.ruleIndex));

  const principals = new Map<string, { grants: Record<string, unknown>[]; topUps: Record<string, unknown>[] }>();
  const of = (name: string): { grants: Record<string, unknown>[]; topUps: Record<string, unknown>[] } => {
    let v = principals.get(name);
    if (v === undefined) principals.set(name, (v = { grants: [], topUps: [] }));
    return v;
  };
  for (const g of grants) of(g.requester).grants.push(grantView(g));
  for (const t of topUps) of(t.requester).topUps.push({ id: t.id, dataset: t.dataset, epsilon: t.epsilon, delta: t.delta, approvedAt: t.approvedAt?.toISOString() ?? null, approvedBy: t.decidedBy });

  return {
    from: p.from.toISOString(),
    to: p.to.toISOString(),
    principals: [...principals.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([principal, v]) => ({ principal, ...v })),
    breakGlass: unreviewed.map((r) => ({
      id: r.id,
      requester: r.requester,
      dataset: r.dataset,
      columns: [...r.columns],
      createdAt: r.createdAt.toISOString(),
      reviewDueAt: r.reviewDueAt?.toISOString() ?? null,
      review: isOverdue(r, now) ? 'overdue' : 'awaiting',
    })),
    policy: {
      rulesNeverMatched: policy.access.rules.map((rule, index) => ({ index, rule })).filter((x) => !matched.has(x.index)).map((x) => ({ index: x.index, match: x.rule.match, approverRole: x.rule.approverRole })),
      ...roleUse(policy, await activity(db, p)),
    },
  };
}
