/**
 * An access request as dpq keeps it, and the one place its effective state is computed.
 *
 * The stored `status` only changes in transactions (state.ts); time-based changes (a pending
 * request passing its TTL, a grant passing `expiresAt`) are computed here from the clock at every
 * read and use, so that an expired grant is never honoured because a sweep has not run yet.
 */
import type { ColumnSensitivity } from '../policy/schema.ts';

export const STATUSES = ['pending', 'approved', 'denied', 'expired', 'revoked', 'cancelled'] as const;
export type Status = (typeof STATUSES)[number];
export const KINDS = ['raw', 'budget'] as const;
export type Kind = (typeof KINDS)[number];

export interface AccessRequest {
  readonly id: string;
  readonly kind: Kind;
  readonly dataset: string;
  readonly requester: string;
  /** As stored; see `effectiveStatus` for what it is now. */
  readonly status: Status;
  /** Kind raw: the `table.column`s granted in clear. */
  readonly columns: readonly string[];
  /** The highest sensitivity in the scope (routing). */
  readonly sensitivity: ColumnSensitivity;
  readonly epsilon: number | null;
  readonly delta: number | null;
  readonly justification: string;
  readonly ticket: string | null;
  readonly durationMs: number | null;
  readonly breakGlass: boolean;
  readonly autoApproved: boolean;
  /** Index of the `access.rules` entry that routed the request. */
  readonly ruleIndex: number;
  readonly approverRole: string;
  readonly requiredApprovals: number;
  readonly createdAt: Date;
  readonly pendingUntil: Date;
  readonly approvedAt: Date | null;
  readonly expiresAt: Date | null;
  readonly decidedAt: Date | null;
  readonly decidedBy: string | null;
  readonly reason: string | null;
  readonly reviewDueAt: Date | null;
  readonly reviewedAt: Date | null;
  readonly reviewedBy: string | null;
  readonly queriesUsed: number;
  readonly rowsUsed: number;
  /** Tokens revealed in clear under this grant. */
  readonly revealsUsed: number;
  /**
   * An extension request: the grant it extends. Its `columns` are only the ones it adds (what
   * approvers decide on); once approved, the grant itself runs on (extend.ts).
   */
  readonly extends: string | null;
}

export interface Approval {
  readonly approver: string;
  readonly at: Date;
  readonly comment: string | null;
}

/** The status at `now`: a pending request past its TTL, or a raw grant past `expiresAt`, is expired. */
export function effectiveStatus(r: AccessRequest, now: Date): Status {
  if (r.status === 'pending' && now.getTime() >= r.pendingUntil.getTime()) return 'expired';
  if (r.status === 'approved' && r.kind === 'raw' && r.expiresAt !== null && now.getTime() >= r.expiresAt.getTime()) return 'expired';
  return r.status;
}

/** The moment a request expired (or will): the pending TTL or the grant's end. */
export function expiryOf(r: AccessRequest): Date | null {
  if (r.status === 'pending') return r.pendingUntil;
  if (r.status === 'approved' && r.kind === 'raw') return r.expiresAt;
  return null;
}

/** A raw grant the requester may use right now. */
export function isActiveGrant(r: AccessRequest, now: Date): boolean {
  return r.kind === 'raw' && effectiveStatus(r, now) === 'approved';
}

/** A break-glass grant not reviewed by its deadline. */
export function isOverdue(r: AccessRequest, now: Date): boolean {
  return r.breakGlass && r.reviewedAt === null && r.reviewDueAt !== null && now.getTime() > r.reviewDueAt.getTime();
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

export interface GrantQuotas {
  readonly maxQueriesPerGrant: number;
  readonly maxRowsPerGrant: number;
  readonly maxRowsPerQuery: number;
}

/** The JSON shape of a request (api.md, JIT access) — value-free by construction. */
export function requestView(r: AccessRequest, approvals: readonly Approval[], now: Date, quotas: GrantQuotas): Record<string, unknown> {
  const status = effectiveStatus(r, now);
  return {
    id: r.id,
    kind: r.kind,
    dataset: r.dataset,
    status,
    requester: r.requester,
    ...(r.kind === 'raw' ? { columns: [...r.columns] } : { epsilon: r.epsilon, delta: r.delta }),
    ...(r.kind === 'raw' ? { extends: r.extends } : {}),
    sensitivity: r.sensitivity,
    justification: r.justification,
    ticket: r.ticket,
    durationMinutes: r.durationMs === null ? null : r.durationMs / 60_000,
    breakGlass: r.breakGlass,
    autoApproved: r.autoApproved,
    approverRole: r.approverRole,
    requiredApprovals: r.requiredApprovals,
    approvals: approvals.map((a) => ({ approver: a.approver, at: a.at.toISOString(), comment: a.comment })),
    createdAt: r.createdAt.toISOString(),
    pendingUntil: r.pendingUntil.toISOString(),
    approvedAt: iso(r.approvedAt),
    expiresAt: iso(r.expiresAt),
    decidedAt: status === 'expired' && r.decidedAt === null ? iso(expiryOf(r)) : iso(r.decidedAt),
    decidedBy: r.decidedBy,
    reason: r.reason,
    reviewDueAt: iso(r.reviewDueAt),
    reviewedAt: iso(r.reviewedAt),
    reviewedBy: r.reviewedBy,
    overdue: isOverdue(r, now),
    ...(r.kind === 'raw'
      ? {
          usage: {
            queries: r.queriesUsed,
            rows: r.rowsUsed,
            reveals: r.revealsUsed,
            maxQueries: quotas.maxQueriesPerGrant,
            maxRows: quotas.maxRowsPerGrant,
            maxRowsPerQuery: quotas.maxRowsPerQuery,
          },
        }
      : {}),
  };
}
