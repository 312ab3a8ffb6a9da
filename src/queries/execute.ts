/**
 * Compile a prepared query, run it on the warehouse, and draw its release: the steps after the
 * cost is paid, shared by `/v1/queries` and the noisy metrics. Throws WarehouseError (untouched)
 * when the warehouse fails; the caller decides what that costs.
 *
 * A plan that measures nothing over public domains only (`SELECT region FROM visits WHERE … GROUP
 * BY region`) is answered from the policy: its rows are the domains' cross product whatever the
 * data, so running it would release nothing but its running time — a free timing oracle.
 */
import type { Services } from '../services.ts';
import { compile, type QueryPlan } from '../sql/index.ts';
import type { Cell } from '../warehouse/adapter.ts';
import { decodeResult, type DecodedGroup } from './decode-result.ts';
import type { PreparedQuery } from './prepare.ts';
import { type ColumnAccuracy, type JsonValue, releaseResult } from './noise.ts';

/** A release as stored and served again: rows, accuracy and what it cost. */
export interface StoredRelease {
  readonly id: string;
  readonly dataset: string;
  readonly columns: readonly string[];
  readonly rows: readonly Readonly<Record<string, JsonValue>>[];
  readonly accuracy: Readonly<Record<string, ColumnAccuracy>>;
  readonly privacy: {
    readonly epsilon: number;
    readonly delta: number;
    readonly mechanism: string;
    readonly partitionSelection: 'none' | 'public' | 'private';
    readonly split: readonly SplitShare[];
    /** Present only while DPQ_NOISE_SEED is on: this release's noise is predictable. */
    readonly noise?: 'seeded';
  };
  readonly releasedAt: string;
}

/** One measurement's share of ε, shown with every answer (privacy.md: the split is shown). */
export interface SplitShare {
  readonly column: string | null;
  readonly measurement: string;
  readonly epsilon: number;
  readonly rho?: number;
  readonly delta?: number;
}

function splitShares(p: PreparedQuery, names: readonly string[]): SplitShare[] {
  const byAggregate = new Map<number, string>();
  p.plan.select.forEach((s, i) => {
    if (s.ref.kind === 'aggregateRef' && !byAggregate.has(s.ref.aggregate)) byAggregate.set(s.ref.aggregate, names[i]!);
  });
  const shares: SplitShare[] = p.split.measurements.map((m) => ({
    column: byAggregate.get(m.aggregate) ?? null,
    measurement: m.part,
    epsilon: m.epsilon,
    ...(m.rho > 0 ? { rho: m.rho } : {}),
  }));
  if (p.split.partitionSelection !== undefined) {
    shares.push({ column: null, measurement: 'partition_selection', ...p.split.partitionSelection });
  }
  return shares;
}

/**
 * The groups of a plan that measures nothing and has only public keys (or none), from the policy:
 * the cross product of the key domains in domain order, as the compiled query would return them.
 * Undefined when the plan needs the warehouse.
 */
export function policyGroups(plan: QueryPlan): DecodedGroup[] | undefined {
  if (plan.measurements.length > 0 || plan.partitions.kind === 'private') return undefined;
  let rows: Cell[][] = [[]];
  for (const key of plan.keys) {
    const d = key.domain;
    if (d.kind !== 'public') return undefined;
    rows = rows.flatMap((r) => d.values.map((v) => [...r, v]));
  }
  return rows.map((keys) => Object.freeze({ keys: Object.freeze(keys), units: undefined, values: Object.freeze([]) }));
}

/** The mark seeded noise puts on every release and on its audit entries' details (privacy.md). */
export function noiseMark(services: Pick<Services, 'rng'>): { readonly noise?: 'seeded' } {
  return services.rng.kind === 'seeded' ? { noise: 'seeded' } : {};
}

export async function executeRelease(services: Services, prepared: PreparedQuery, id: string, at: Date): Promise<StoredRelease> {
  const { plan, split, params } = prepared;
  let groups = policyGroups(plan);
  if (groups === undefined) {
    const compiled = compile(plan);
    groups = decodeResult(plan, compiled, await services.warehouse.read(compiled.sql, compiled.params));
  }
  const release = releaseResult({ plan, split, groups, rng: services.rng, confidence: params.confidence });
  return {
    id,
    dataset: params.datasetName,
    columns: release.columns,
    rows: release.rows,
    accuracy: release.accuracy,
    privacy: {
      epsilon: split.charge.epsilon,
      delta: split.charge.delta,
      mechanism: params.mechanism,
      partitionSelection: release.partitionSelection,
      split: splitShares(prepared, release.columns),
      ...noiseMark(services),
    },
    releasedAt: at.toISOString(),
  };
}
