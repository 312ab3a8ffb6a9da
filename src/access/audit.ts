/**
 * Audit entries of JIT access: one per transition (and per refused review action or raw query),
 * written in the transaction of the change. They name the request, its scope (kind, dataset,
 * column names or ε/δ), the justification and ticket, and the outcome — never a data value,
 * never a token or its clear value.
 */
import type { AuditEntryInput, AuditOutcome } from '../audit/entry.ts';
import type { AccessRequest } from './model.ts';

export const SYSTEM_ACTOR = 'dpq';

export interface EntryExtra {
  readonly code?: string;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly epsilon?: number | null;
  readonly delta?: number | null;
}

/** The value-free description of a request, shared by every entry about it. */
export function scopeDetails(r: AccessRequest): Record<string, unknown> {
  return {
    kind: r.kind,
    status: r.status,
    ...(r.kind === 'raw'
      ? { columns: [...r.columns], sensitivity: r.sensitivity, durationMinutes: r.durationMs === null ? null : r.durationMs / 60_000 }
      : { epsilon: r.epsilon, delta: r.delta }),
    justification: r.justification,
    ticket: r.ticket,
    breakGlass: r.breakGlass,
    autoApproved: r.autoApproved,
    rule: r.ruleIndex,
    approverRole: r.approverRole,
    requiredApprovals: r.requiredApprovals,
    expiresAt: r.expiresAt?.toISOString() ?? null,
    reviewDueAt: r.reviewDueAt?.toISOString() ?? null,
  };
}

export function requestEntry(
  action: string,
  actor: string,
  r: AccessRequest,
  outcome: AuditOutcome,
  httpRequestId: string | null,
  extra: EntryExtra = {},
): AuditEntryInput {
  return {
    actor,
    action,
    dataset: r.dataset,
    outcome,
    requestId: r.id,
    httpRequestId,
    epsilon: extra.epsilon ?? null,
    delta: extra.delta ?? null,
    code: extra.code ?? null,
    details: { ...scopeDetails(r), ...extra.details },
  };
}
