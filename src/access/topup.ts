/** Budget requests: an approval adds the ε/δ to the requester's limit, as a ledger event in the approving transaction. */
import type { AuditEntryInput } from '../audit/entry.ts';
import { topUp } from '../budget/ledger.ts';
import { periodOf } from '../budget/period.ts';
import type { StateQuery } from '../state/store.ts';
import type { AccessContext } from './context.ts';
import type { AccessRequest } from './model.ts';

/** Add an approved budget request's ε/δ to the requester's limit for the current period. */
export async function applyTopUp(ctx: AccessContext, tx: StateQuery, r: AccessRequest, now: Date, actor: string, httpRequestId: string): Promise<AuditEntryInput[]> {
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
      // An entry's ε/δ is what it charged (api.md, Audit): a top-up charges nothing, it raises a limit.
      epsilon: 0,
      delta: 0,
      requestId: r.id,
      httpRequestId,
      details: { principal: r.requester, period, topUp: amount, justification: r.justification, ticket: r.ticket },
    },
  ];
}
