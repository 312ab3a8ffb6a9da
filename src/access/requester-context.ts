/**
 * What an approver sees about the requester beside a pending request (issue: approvers see
 * context): the requester's budget on the request's dataset as the ledger has it now, and its raw
 * access over the last 30 days — grants held, raw queries run, rows read, tokens revealed,
 * requests denied — as counts, never data. Read from the state store, so every replica shows the same.
 */
import { readStatus } from '../budget/ledger.ts';
import { periodOf } from '../budget/period.ts';
import type { StateQuery } from '../state/store.ts';
import type { AccessContext } from './context.ts';
import type { AccessRequest } from './model.ts';

export const HISTORY_DAYS = 30;

export interface RawHistory {
  readonly since: string;
  readonly grants: number;
  readonly queries: number;
  readonly rows: number;
  readonly reveals: number;
  readonly denied: number;
  readonly breakGlass: number;
}

async function rawHistory(db: StateQuery, requester: string, dataset: string, since: Date, excluding: string): Promise<RawHistory> {
  const r = await db.query<{ grants: string | number; queries: string | number | null; rows: string | number | null; reveals: string | number | null; denied: string | number; break_glass: string | number }>(
    `SELECT count(*) FILTER (WHERE approved_at IS NOT NULL AND extends IS NULL) AS grants,
            sum(queries_used) AS queries, sum(rows_used) AS rows, sum(reveals_used) AS reveals,
            count(*) FILTER (WHERE status = 'denied') AS denied,
            count(*) FILTER (WHERE break_glass) AS break_glass
       FROM dpq.access_requests
      WHERE requester = $1 AND dataset = $2 AND kind = 'raw' AND created_at >= $3::timestamptz AND id <> $4`,
    [requester, dataset, since.toISOString(), excluding],
  );
  const row = r.rows[0]!;
  return {
    since: since.toISOString(),
    grants: Number(row.grants),
    queries: Number(row.queries ?? 0),
    rows: Number(row.rows ?? 0),
    reveals: Number(row.reveals ?? 0),
    denied: Number(row.denied),
    breakGlass: Number(row.break_glass),
  };
}

/** The requester's budget on the dataset and its recent raw-access counts (the request itself excluded). */
export async function requesterContext(ctx: AccessContext, r: AccessRequest): Promise<Record<string, unknown>> {
  const { policy, clock, state } = ctx.services;
  const now = clock.now();
  const dataset = Object.hasOwn(policy.datasets, r.dataset) ? policy.datasets[r.dataset] : undefined;
  const budget =
    dataset === undefined
      ? null
      : await readStatus(state, { principal: r.requester, dataset: r.dataset, period: periodOf(dataset.budget.renew, now).key }, dataset.budget.analyst, dataset.budget.accounting);
  const since = new Date(now.getTime() - HISTORY_DAYS * 86_400_000);
  return { budget, rawAccess: await rawHistory(state, r.requester, r.dataset, since, r.id) };
}
