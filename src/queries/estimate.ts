/**
 * `POST /v1/queries/estimate`: what a query would cost and how accurate it would be, without
 * charging or reading data. Either from ε (the request's or the default), or — with
 * `accuracy: {column, halfWidth}` — the smallest ε whose noise on that column has at most that
 * half-width at `confidence`, found on the same split and calibration the query uses.
 */
import { type BudgetSplit, calibrateNoise, epsilonForQueryHalfWidth, noiseAccuracy } from '../dp/index.ts';
import { readStatus, TOTAL, type BudgetStatus, wouldFit } from '../budget/ledger.ts';
import { periodOf } from '../budget/period.ts';
import { invalidRequest } from '../errors.ts';
import type { Principal } from '../policy/authorize.ts';
import type { Services } from '../services.ts';
import type { AggregateNode } from '../sql/index.ts';
import { budgetLimits, budgetRequestFor, type PreparedQuery, prepareQuery, splitFor } from './prepare.ts';
import { type ColumnAccuracy, gridOf, outputNames } from './noise.ts';
import { resolveParams } from './params.ts';
import type { EstimateBody } from './request.ts';

export interface EstimateResponse {
  readonly dataset: string;
  readonly epsilon: number;
  readonly delta: number;
  readonly mechanism: string;
  readonly accuracy: Readonly<Record<string, ColumnAccuracy>>;
  readonly budget: BudgetStatus;
  readonly allowed: boolean;
  readonly reason?: string;
}

/** An aggregate's noise accuracy under `split`, or a note where there is no closed form. */
function columnAccuracy(p: PreparedQuery, a: AggregateNode, split: BudgetSplit): ColumnAccuracy {
  const confidence = p.params.confidence;
  if (a.fn !== 'count' && a.fn !== 'count_distinct_units' && a.fn !== 'sum') {
    return { stddev: null, ci: null, confidence, note: a.fn === 'avg' ? 'depends on the released count; see the answer' : 'no closed-form interval for this aggregate' };
  }
  const index = a.measurements[0]!;
  const share = split.measurements[index]!;
  if (share.mechanism === 'exponential') return { stddev: null, ci: null, confidence, note: 'no closed-form interval for this aggregate' };
  const acc = noiseAccuracy(calibrateNoise(p.plan.measurements[index]!.sensitivity, share), confidence, gridOf(a));
  return { stddev: acc.stddev, ci: acc.ci, confidence };
}

function accuracies(p: PreparedQuery, split: BudgetSplit): Record<string, ColumnAccuracy> {
  const names = outputNames(p.plan);
  const out: Record<string, ColumnAccuracy> = {};
  p.plan.select.forEach((s, i) => {
    if (s.ref.kind === 'aggregateRef') out[names[i]!] = columnAccuracy(p, p.plan.aggregates[s.ref.aggregate]!, split);
  });
  return out;
}

/** The smallest ε whose noise on `column` has a half-width ≤ `halfWidth` (dp/estimate.ts searches the real split). */
function epsilonForAccuracy(p: PreparedQuery, column: string, halfWidth: number): number {
  const names = outputNames(p.plan);
  const i = names.indexOf(column);
  const item = i === -1 ? undefined : p.plan.select[i];
  if (item === undefined || item.ref.kind !== 'aggregateRef') {
    throw invalidRequest(`accuracy.column must name an aggregate column of the query: ${names.join(', ')}`, { field: 'accuracy.column' });
  }
  const a = p.plan.aggregates[item.ref.aggregate]!;
  if (a.fn !== 'count' && a.fn !== 'count_distinct_units' && a.fn !== 'sum') {
    throw invalidRequest('an accuracy target works for COUNT and SUM columns', { field: 'accuracy.column' });
  }
  return epsilonForQueryHalfWidth({
    request: budgetRequestFor(p.params, p.plan),
    aggregate: a.index,
    sensitivity: p.plan.measurements[a.measurements[0]!]!.sensitivity,
    grid: gridOf(a),
    halfWidth,
    confidence: p.params.confidence,
  });
}

export async function estimateQuery(services: Services, principal: Principal, body: EstimateBody): Promise<EstimateResponse> {
  // Prepare at the default ε when the target is an accuracy: the plan does not depend on ε.
  const p = await prepareQuery(services, resolveParams(services.policy, principal, body), body.sql);
  const epsilon = body.accuracy === undefined ? p.params.epsilon : epsilonForAccuracy(p, body.accuracy.column, body.accuracy.halfWidth);
  const { limit, total, accounting } = budgetLimits(p.params.dataset);
  const key = { principal: principal.name, dataset: p.params.datasetName, period: periodOf(p.params.dataset.budget.renew, services.clock.now()).key };
  // The same two accounts the charge would check (budget/ledger.ts), read without a lock.
  const split = splitFor({ ...p.params, epsilon }, p.plan);
  const totalKey = { ...key, principal: TOTAL };
  const [budget, ownFits, totalFits] = await Promise.all([
    readStatus(services.state, key, limit, accounting),
    wouldFit(services.state, key, limit, accounting, split.events),
    total === undefined ? true : wouldFit(services.state, totalKey, total, accounting, split.events),
  ]);
  const { minEpsilon, maxEpsilon } = p.params.dataset.limits;
  let reason: string | undefined;
  if (epsilon > maxEpsilon || epsilon < minEpsilon) reason = `ε must be between ${minEpsilon} and ${maxEpsilon} on this dataset`;
  else if (!ownFits) reason = 'more than your remaining budget';
  else if (!totalFits) reason = "more than the dataset's remaining total budget";
  return {
    dataset: p.params.datasetName,
    epsilon: split.charge.epsilon,
    delta: split.charge.delta,
    mechanism: p.params.mechanism,
    accuracy: accuracies(p, split),
    budget,
    allowed: reason === undefined,
    ...(reason === undefined ? {} : { reason }),
  };
}
