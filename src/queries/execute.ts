/**
 * Compile a prepared query, run it on the warehouse, and draw its release: the steps after the
 * cost is paid, shared by `/v1/queries` and the noisy metrics. Throws WarehouseError (untouched)
 * when the warehouse fails; the caller decides what that costs.
 */
import type { Services } from '../services.ts';
import { compile } from '../sql/index.ts';
import { decodeResult } from './decode-result.ts';
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

export async function executeRelease(services: Services, prepared: PreparedQuery, id: string, at: Date): Promise<StoredRelease> {
  const { plan, split, params } = prepared;
  const compiled = compile(plan);
  const result = await services.warehouse.read(compiled.sql, compiled.params);
  const release = releaseResult({ plan, split, groups: decodeResult(plan, compiled, result), rng: services.rng, confidence: params.confidence });
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
    },
    releasedAt: at.toISOString(),
  };
}
