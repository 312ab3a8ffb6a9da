/**
 * The rules a new access request (or an extension) is held to: its id, a raw grant's duration
 * under the rule's maximum, and whether the rule approves it automatically. Shared by create.ts
 * and extend.ts.
 */
import crypto from 'node:crypto';
import { invalidRequest } from '../errors.ts';
import type { Principal } from '../policy/authorize.ts';
import { formatDuration } from '../policy/duration.ts';
import type { AccessRule } from '../policy/schema.ts';

/** Default grant length when the body names none (capped by the rule or break-glass maximum). */
export const DEFAULT_DURATION_MS = 60 * 60_000;

export function newRequestId(): string {
  return `ar_${crypto.randomBytes(16).toString('base64url')}`;
}

/** A raw grant's length: the body's, or the default capped by the maximum; above the maximum is 400. */
export function rawDuration(minutes: number | undefined, max: number | undefined, where: string): number {
  const durationMs = minutes !== undefined ? minutes * 60_000 : Math.min(DEFAULT_DURATION_MS, max ?? DEFAULT_DURATION_MS);
  if (max !== undefined && durationMs > max) {
    throw invalidRequest(`body.durationMinutes: at most ${max / 60_000} minutes (${where}.maxDuration ${formatDuration(max)})`, {
      field: 'durationMinutes',
      maxMinutes: max / 60_000,
    });
  }
  return durationMs;
}

/** The requester holds one of the rule's autoApprove roles and the duration is within its maximum. */
export function autoApproves(rule: AccessRule, principal: Principal, durationMs: number | null): boolean {
  return (
    rule.autoApprove !== undefined &&
    principal.roles.some((r) => rule.autoApprove!.roles.includes(r)) &&
    (durationMs === null || rule.autoApprove.maxDuration === undefined || durationMs <= rule.autoApprove.maxDuration)
  );
}
