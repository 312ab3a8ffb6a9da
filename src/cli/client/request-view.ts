/** Access requests as table rows (`dpq requests`, and the answer of request/approve/deny/revoke). */
import type { z } from 'zod';
import type { accessRequest } from '../../http/schemas.ts';
import { type Format, print, text } from './output.ts';

export type AccessRequestView = z.infer<typeof accessRequest>;

export const REQUEST_HEADERS = ['id', 'kind', 'dataset', 'requester', 'status', 'scope', 'approvals', 'expires'];

export function requestRow(r: AccessRequestView): (string | number | null)[] {
  const scope = r.kind === 'raw' ? (r.columns ?? []).join(' ') || '(no column in clear)' : `ε ${text(r.epsilon)}, δ ${text(r.delta)}`;
  return [r.id, r.kind, r.dataset, r.requester, r.status, scope, `${r.approvals.length}/${r.requiredApprovals}`, r.expiresAt];
}

/** One request: a one-row table and its justification and reason. */
export function printRequest(format: Format, r: AccessRequestView): void {
  print(format, r, REQUEST_HEADERS, [requestRow(r)], [`justification: ${r.justification}`, ...(r.reason === null ? [] : [`reason: ${r.reason}`])]);
}
