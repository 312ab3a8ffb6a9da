/**
 * Everything a query needs before it costs anything: parameters, plan, the budget split and the
 * fingerprints. Pure with respect to data — the only warehouse read is the catalog lookup of
 * keyed tables (once per dataset per process), which touches no dataset row.
 */
import { type BudgetRequest, type BudgetSplit, DpParameterError, type MeasurementPart, splitBudget } from '../dp/index.ts';
import type { Accounting } from '../budget/filter.ts';
import type { Limit } from '../budget/ledger.ts';
import { invalidRequest } from '../errors.ts';
import type { Dataset } from '../policy/schema.ts';
import type { Services } from '../services.ts';
import { filterNodes, fingerprint, keyColumnsOf, type MeasurementNode, planQuery, type QueryPlan, redact, shapeFingerprint } from '../sql/index.ts';
import { findKeyedTables } from '../warehouse/keyed-tables.ts';
import type { QueryParams } from './params.ts';

export interface PreparedQuery {
  readonly params: QueryParams;
  readonly plan: QueryPlan;
  readonly split: BudgetSplit;
  /** Parse-tree fingerprint with literals: the replay-cache key, never shown. */
  readonly fingerprint: string;
  /** Literal-blind fingerprint: what the audit log shows (a literal could be brute-forced back from the other). */
  readonly shape: string;
  readonly redacted: string;
}

/** The budget split's name for what a plan measurement measures. */
function partOf(m: MeasurementNode): MeasurementPart {
  switch (m.measure) {
    case 'count':
      return m.counts === 'units' ? 'count_distinct' : 'count';
    case 'sum':
      return 'sum';
    case 'sumsq':
      return 'sum_of_squares';
    case 'histogram':
      return 'quantile';
  }
}

/** How long a catalog answer about keyed tables is reused: a hint only, each read re-checks it (sql/keyed.ts). */
const KEYED_TTL_MS = 60_000;
const keyedCache = new WeakMap<Services, Map<string, { at: number; tables: Promise<ReadonlySet<string>> }>>();

/** The dataset's tables keyed by their unit (catalog lookup, remembered briefly; empty when it fails). */
function keyedTables(services: Services, name: string, dataset: Dataset): Promise<ReadonlySet<string>> {
  let perDataset = keyedCache.get(services);
  if (perDataset === undefined) keyedCache.set(services, (perDataset = new Map()));
  const now = Date.now();
  let found = perDataset.get(name);
  if (found === undefined || now - found.at > KEYED_TTL_MS) {
    const tables = findKeyedTables(services.warehouse, dataset).catch(() => {
      perDataset.delete(name); // try again next time; unkeyed is always safe
      return new Set<string>() as ReadonlySet<string>;
    });
    found = { at: now, tables };
    perDataset.set(name, found);
  }
  return found.tables;
}

/** What the budget split needs to know of a query, but its ε. */
export function budgetRequestFor(params: Pick<QueryParams, 'delta' | 'mechanism'>, plan: QueryPlan): Omit<BudgetRequest, 'epsilon'> {
  return {
    mechanism: params.mechanism,
    delta: params.delta,
    measurements: plan.measurements.map((m) => ({ aggregate: m.aggregate, part: partOf(m) })),
    partitionSelection: plan.partitions.kind === 'private',
  };
}

/** The split of a plan's cost, from the request and the plan only; parameters it cannot split are 400. */
export function splitFor(params: Pick<QueryParams, 'epsilon' | 'delta' | 'mechanism'>, plan: QueryPlan): BudgetSplit {
  try {
    return splitBudget({ ...budgetRequestFor(params, plan), epsilon: params.epsilon });
  } catch (err: unknown) {
    if (err instanceof DpParameterError) throw invalidRequest(err.message, { field: err.param });
    throw err;
  }
}

/** Parse, validate and plan `sql` under already resolved parameters, and cost it. */
export async function prepareQuery(services: Services, params: QueryParams, sql: string): Promise<PreparedQuery> {
  // Validate first: a refused query never reaches the warehouse, not even its catalog.
  const options = { delta: params.delta, dataset: params.datasetName };
  let plan = await planQuery(sql, params.dataset, options);
  const keyed = await keyedTables(services, params.datasetName, params.dataset);
  if (plan.tables.some((t) => keyed.has(t.name))) plan = await planQuery(sql, params.dataset, { ...options, keyedTables: keyed });
  const [fp, shape, redacted] = await Promise.all([fingerprint(sql), shapeFingerprint(sql), redact(sql)]);
  return { params, plan, split: splitFor(params, plan), fingerprint: fp, shape, redacted };
}

/** Columns (`table.column`) a plan reads, for the raw-access pointer of a budget refusal. */
export function columnsRead(plan: QueryPlan): string[] {
  const names = new Set<string>();
  const add = (c: { table: number; name: string } | undefined): void => {
    if (c !== undefined) names.add(`${plan.tables[c.table]!.name}.${c.name}`);
  };
  for (const k of plan.keys) keyColumnsOf(k.expression).forEach(add);
  for (const a of plan.aggregates) add(a.column);
  if (plan.filter !== undefined) {
    for (const f of filterNodes(plan.filter)) if ('column' in f) add(f.column);
  }
  if (names.size === 0) {
    // COUNT(*) alone: point at the unit column, the least a row-level look needs.
    add(plan.unit);
  }
  return [...names];
}

/** The two accounts a query charges: the analyst's own and the dataset's total (if any). */
export function budgetLimits(dataset: Dataset): { limit: Limit; total: Limit | undefined; accounting: Accounting } {
  return { limit: dataset.budget.analyst, total: dataset.budget.total, accounting: dataset.budget.accounting };
}
