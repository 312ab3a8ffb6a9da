/**
 * `POST /v1/queries`, the aggregate pipeline of architecture.md:
 *
 *   prepare (params → parse → validate → plan → cost)      refusals: audited, free, no warehouse
 *   → replay cache hit? → the stored release, audited, free
 *   → tx 1: reserve budget + audit "charged"               refused: audited in the same tx, 403
 *   → compile → execute (READ ONLY, timeout, reader role)  spent from here on, whatever happens
 *   → noise (one draw per measurement per group) → post-process
 *   → tx 2: store the release + audit "answered"
 *
 * Once tx 1 commits the cost is spent: a warehouse error is 502 QUERY_FAILED (audited, never the
 * database text), a client that went away changes nothing. The one exception is a warehouse that
 * was never reached (connection refused): the reservation is refunded and the answer is 503.
 */
import crypto from 'node:crypto';
import { auditBatcher } from '../audit/batch.ts';
import type { AuditEntryInput } from '../audit/entry.ts';
import { auditedTransaction } from '../audit/record.ts';
import type { Accounting } from '../budget/filter.ts';
import { type AccountKey, type BudgetStatus, type Limit, readStatus, type Refusal, refund, reserve } from '../budget/ledger.ts';
import { periodOf } from '../budget/period.ts';
import { DpqError, queryFailed } from '../errors.ts';
import type { Principal } from '../policy/authorize.ts';
import type { Policy } from '../policy/schema.ts';
import { routeRequest } from '../access/routing.ts';
import type { Services } from '../services.ts';
import { WarehouseError, warehouseFailure } from '../warehouse/adapter.ts';
import { recordHistory } from './history.ts';
import { type CachedRelease, cacheKey, lookupRelease, policyFingerprint, storeRelease, textFingerprint } from './cache.ts';
import { type QueryParams, resolveParams } from './params.ts';
import { budgetLimits, columnsRead, type PreparedQuery, prepareQuery } from './prepare.ts';
import { executeRelease, noiseMark, type StoredRelease } from './execute.ts';
import type { QueryBody } from './request.ts';

export interface QueryResponse extends Omit<StoredRelease, 'privacy'> {
  readonly privacy: StoredRelease['privacy'] & { readonly cached: boolean; readonly released: { epsilon: number; delta: number } };
  readonly budget: BudgetStatus;
}

export interface RequestContext {
  readonly principal: Principal;
  readonly httpRequestId: string;
}

/** How many more queries like the refused one a proposed top-up pays for (less where a rule caps it). */
export const TOPUP_QUERIES = 10;

/**
 * The top-up a budget refusal proposes: enough for TOPUP_QUERIES more queries like the refused
 * one — not just that one — within the access rule's `maxEpsilon`/`maxDelta`, so the body is
 * accepted as it is.
 */
export function topupSize(policy: Policy, dataset: string, required: { epsilon: number; delta: number }): { epsilon: number; delta: number; queries: number } {
  const rule = routeRequest(policy, 'budget', dataset, 'none')?.rule;
  const perQuery = Math.max(required.epsilon, 0.01);
  const epsilon = Math.min(perQuery * TOPUP_QUERIES, rule?.maxEpsilon ?? Infinity);
  const delta = Math.min(required.delta * TOPUP_QUERIES, rule?.maxDelta ?? Infinity);
  const round = (x: number): number => Number(x.toPrecision(6));
  return { epsilon: round(Math.max(epsilon, perQuery)), delta: round(Math.max(delta, Math.min(required.delta, rule?.maxDelta ?? Infinity))), queries: Math.max(1, Math.floor(epsilon / perQuery + 1e-9)) };
}

/** The pointer a budget refusal carries: bodies for POST /v1/access-requests that work as they are. */
export function requestAccessPointer(policy: Policy, dataset: string, required: { epsilon: number; delta: number }, columns: readonly string[]): Record<string, unknown> {
  const size = topupSize(policy, dataset, required);
  return {
    endpoint: 'POST /v1/access-requests',
    budget: {
      kind: 'budget',
      dataset,
      epsilon: size.epsilon,
      delta: size.delta,
      justification: `Privacy budget for dataset ${dataset} is spent; ε ${size.epsilon} pays for about ${size.queries} more queries like the refused one (ε ${required.epsilon} each) to continue this analysis`,
    },
    budgetQueries: size.queries,
    raw: {
      kind: 'raw',
      dataset,
      columns,
      justification: `Privacy budget for dataset ${dataset} is spent; row-level access is needed to continue this analysis`,
      durationMinutes: 60,
    },
  };
}

export async function auditRefusal(services: Services, ctx: RequestContext, body: QueryBody, err: DpqError, prepared?: PreparedQuery): Promise<void> {
  await auditBatcher(services).record(
    {
      actor: ctx.principal.name,
      action: 'query',
      dataset: prepared?.params.datasetName ?? body.dataset ?? null,
      outcome: 'refused',
      code: err.code,
      sqlFingerprint: prepared?.shape ?? null,
      sqlRedacted: prepared?.redacted ?? null,
      httpRequestId: ctx.httpRequestId,
    },
  );
}

/** A replay-cache hit: the stored release, audited (group commit), free, with the caller's budget. */
async function replay(
  services: Services,
  ctx: RequestContext,
  hit: CachedRelease,
  account: { key: AccountKey; limit: Limit; accounting: Accounting },
  asked: { at: Date; sql: string },
): Promise<QueryResponse> {
  const { key, limit, accounting } = account;
  const stored = JSON.parse(hit.body) as StoredRelease;
  // The replay's audit entry (group-committed with others) and the caller's budget, together.
  const [, budget] = await Promise.all([
    auditBatcher(services).record({
      actor: ctx.principal.name,
      action: 'query',
      dataset: key.dataset,
      sqlFingerprint: hit.fingerprint,
      sqlRedacted: hit.redacted,
      httpRequestId: ctx.httpRequestId,
      outcome: 'cached',
      epsilon: 0,
      delta: 0,
      rowCount: stored.rows.length,
      details: { releaseId: stored.id, ...noiseMark(services) },
    }),
    readStatus(services.state, key, limit, accounting),
    recordHistory(services.state, { principal: ctx.principal.name, at: asked.at, sql: asked.sql, redacted: hit.redacted, cached: true, charged: { epsilon: 0, delta: 0 }, release: stored }),
  ]);
  return {
    ...stored,
    privacy: { ...stored.privacy, epsilon: 0, delta: 0, cached: true, released: { epsilon: stored.privacy.epsilon, delta: stored.privacy.delta } },
    budget,
  };
}

/** The refusal of a query the budget cannot pay, with the access requests that would continue. */
function budgetExhausted(policy: Policy, dataset: string, refusal: Refusal, columns: readonly string[]): DpqError<'BUDGET_EXHAUSTED'> {
  return new DpqError(
    'BUDGET_EXHAUSTED',
    refusal.scope === 'dataset'
      ? `the dataset's total budget cannot pay for this query`
      : `this query needs ε=${refusal.required.epsilon}, δ=${refusal.required.delta}; your remaining budget is ε=${refusal.remaining.epsilon}, δ=${refusal.remaining.delta}`,
    {
      required: refusal.required,
      remaining: refusal.remaining,
      scope: refusal.scope,
      requestAccess: requestAccessPointer(policy, dataset, refusal.required, columns),
    },
  );
}

/**
 * Audit a run that failed after its charge. Anything but a warehouse that was never reached leaves
 * the cost spent; an unreached one is refunded in the same transaction.
 */
async function auditFailure(
  services: Services,
  err: unknown,
  run: { base: Omit<AuditEntryInput, 'outcome'>; key: AccountKey; total: Limit | undefined; split: PreparedQuery['split']; id: string; chargedBy: number },
): Promise<void> {
  const { base, key, total, split, id, chargedBy } = run;
  const reached = !(err instanceof WarehouseError) || err.reached;
  await auditedTransaction(services, async (tx, record) => {
    if (!reached) await refund(tx, { key, events: split.events, total, kind: 'query', reference: id, at: services.clock.now() });
    await record([
      {
        ...base,
        outcome: 'failed',
        code: err instanceof WarehouseError ? warehouseFailure(err).code : 'QUERY_FAILED',
        // A refund gives the charge back: this entry's amount is minus the charge.
        epsilon: reached ? 0 : -split.charge.epsilon,
        delta: reached ? 0 : -split.charge.delta,
        details: { releaseId: id, chargedBy, refunded: !reached, sqlState: err instanceof WarehouseError ? (err.sqlState ?? null) : null, ...noiseMark(services) },
      },
    ]);
  });
}

/** The replay-cache key of a query's text or parse-tree fingerprint under these parameters and policy. */
function releaseKeyOf(params: QueryParams): (fingerprint: string) => string {
  return (fingerprint) =>
    cacheKey({
      dataset: params.datasetName,
      fingerprint,
      epsilon: params.epsilon,
      delta: params.delta,
      mechanism: params.mechanism,
      confidence: params.confidence,
      policy: policyFingerprint(params.dataset),
    });
}

/** Counts a query's outcome and its latency since this call. */
function observer(services: Services): (outcome: string, dataset: string) => void {
  const started = process.hrtime.bigint();
  return (outcome, dataset) => {
    // Only policy datasets become label values: a caller's text must not grow the series.
    const label = Object.hasOwn(services.policy.datasets, dataset) ? dataset : 'unknown';
    services.telemetry.queries.inc({ dataset: label, outcome });
    services.telemetry.queryLatency.observe({ outcome }, Number(process.hrtime.bigint() - started) / 1e9);
  };
}

export async function runQuery(services: Services, ctx: RequestContext, body: QueryBody): Promise<QueryResponse> {
  const observe = observer(services);
  const refused = async (err: unknown, prepared?: PreparedQuery): Promise<never> => {
    if (err instanceof DpqError && err.status < 500) {
      await auditRefusal(services, ctx, body, err, prepared);
      observe('refused', prepared?.params.datasetName ?? body.dataset ?? 'unknown');
    }
    throw err;
  };
  let params: QueryParams;
  try {
    params = resolveParams(services.policy, ctx.principal, body);
  } catch (err: unknown) {
    return refused(err);
  }
  const dataset = params.datasetName;
  const now = services.clock.now();
  const period = periodOf(params.dataset.budget.renew, now);
  const key = { principal: ctx.principal.name, dataset, period: period.key };
  const { limit, total, accounting } = budgetLimits(params.dataset);
  const keyOf = releaseKeyOf(params);
  const textKey = keyOf(textFingerprint(body.sql));

  // Replay cache, first by the exact text (no parsing), then by the parse-tree fingerprint.
  let prepared: PreparedQuery | undefined;
  let hit = await lookupRelease(services.state, [textKey], now);
  if (hit === undefined) {
    try {
      prepared = await prepareQuery(services, params, body.sql);
    } catch (err: unknown) {
      return refused(err);
    }
    hit = await lookupRelease(services.state, [keyOf(prepared.fingerprint)], now);
  }
  if (hit !== undefined) {
    const replayed = await replay(services, ctx, hit, { key, limit, accounting }, { at: now, sql: body.sql });
    observe('cached', dataset);
    return replayed;
  }
  if (prepared === undefined) throw new Error('unreachable: a miss always prepares');
  const { plan, split } = prepared;
  const base = {
    actor: ctx.principal.name,
    action: 'query',
    dataset,
    sqlFingerprint: prepared.shape,
    sqlRedacted: prepared.redacted,
    httpRequestId: ctx.httpRequestId,
  } as const;

  // Check-and-charge, with its audit entry, in one transaction.
  const id = `q_${crypto.randomBytes(12).toString('base64url')}`;
  const charge = split.charge;
  // The charge's entry carries its ε and δ; every later entry of this release carries 0 and names
  // it in `details.chargedBy`, so the log summed per principal and dataset equals the ledger.
  const reservation = await auditedTransaction(services, async (tx, record) => {
    const r = await reserve(tx, { key, events: split.events, limit, total, accounting, kind: 'query', reference: id, at: now });
    const [seq] = await record([
      r.ok
        ? { ...base, outcome: 'ok', epsilon: charge.epsilon, delta: charge.delta, details: { stage: 'charged', releaseId: id, ...noiseMark(services) } }
        : { ...base, outcome: 'refused', code: 'BUDGET_EXHAUSTED', epsilon: 0, delta: 0, details: { required: r.refusal.required, scope: r.refusal.scope } },
    ]);
    return { ...r, chargedBy: seq! };
  });
  const chargedBy = reservation.chargedBy;
  if (!reservation.ok) {
    observe('refused', dataset);
    throw budgetExhausted(services.policy, dataset, reservation.refusal, columnsRead(plan));
  }
  services.telemetry.epsilonSpent.inc({ dataset }, charge.epsilon);

  // Spent from here on.
  let stored: StoredRelease;
  try {
    stored = await executeRelease(services, prepared, id, now);
  } catch (err: unknown) {
    await auditFailure(services, err, { base, key, total, split, id, chargedBy });
    observe('failed', dataset);
    // Whatever failed after the charge (the warehouse, a timeout, decoding, the noise step), the
    // answer is the one fixed QUERY_FAILED: a message or code that differs by cause could depend
    // on the data. The cause goes to the service log by name only.
    if (!(err instanceof WarehouseError)) services.logger.error('a query failed after its charge', { releaseId: id, errorName: err instanceof Error ? err.name : typeof err });
    throw err instanceof WarehouseError ? warehouseFailure(err) : queryFailed();
  }
  const after = services.clock.now();
  await auditedTransaction(services, async (tx, record) => {
    if (params.dataset.cacheTtl > 0) {
      const cached = { body: JSON.stringify(stored), fingerprint: prepared.shape, redacted: prepared.redacted };
      await storeRelease(tx, [keyOf(prepared.fingerprint), textKey], dataset, cached, after, params.dataset.cacheTtl);
    }
    await recordHistory(tx, { principal: ctx.principal.name, at: after, sql: body.sql, redacted: prepared.redacted, cached: false, charged: charge, release: stored });
    await record([{ ...base, outcome: 'answered', epsilon: 0, delta: 0, rowCount: stored.rows.length, details: { releaseId: id, chargedBy, ...noiseMark(services) } }]);
  });
  observe('answered', dataset);
  return {
    ...stored,
    privacy: { ...stored.privacy, cached: false, released: { epsilon: charge.epsilon, delta: charge.delta } },
    budget: reservation.status,
  };
}
