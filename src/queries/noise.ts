/**
 * The noise step: exact per-group measurements (from the compiled query) → released rows.
 *
 * One draw per measurement per group, from the budget split's share: discrete Laplace or discrete
 * Gaussian for counts and sums, the exponential mechanism for quantile histograms, and — for
 * private group keys — one partition-selection draw per group before anything else (a group that
 * does not pass is dropped whole). Everything after the draws is post-processing: AVG from the
 * noisy sum and count, VARIANCE from noisy moments, counts floored at 0, values clamped to bounds.
 * HAVING / ORDER BY / LIMIT then run on the released values (output-clauses.ts).
 * Accuracy is reported per column from the noise law alone (never from the data), except AVG,
 * whose delta-method interval depends on released values: the widest over the released groups.
 */
import {
  averageAccuracy,
  averageFromNoisy,
  type BudgetSplit,
  calibrateNoise,
  fromGridUnits,
  grid,
  type Grid,
  INTEGER_GRID,
  noiseAccuracy,
  type NoiseSpec,
  partitionThreshold,
  quantileFromHistogram,
  type RandomSource,
  releaseInteger,
  releasedCount,
  selectPartition,
  varianceFromNoisy,
} from '../dp/index.ts';
import { type DecodedGroup, histogramCounts, type PendingHistogram } from './decode-result.ts';
import type { AggregateNode, QueryPlan } from '../sql/index.ts';
import type { Cell } from '../warehouse/adapter.ts';
import { applyPostProcessing, type JsonValue, type ReleasedGroup } from './output-clauses.ts';

export type { JsonValue };

export type ColumnAccuracy =
  | { readonly stddev: number; readonly ci: readonly [number, number]; readonly confidence: number; readonly approximate?: true }
  | { readonly stddev: null; readonly ci: null; readonly confidence: number; readonly note: string };

export interface Release {
  readonly columns: readonly string[];
  readonly rows: readonly Readonly<Record<string, JsonValue>>[];
  readonly accuracy: Readonly<Record<string, ColumnAccuracy>>;
  readonly partitionSelection: 'none' | 'public' | 'private';
}

/** Unique output names in select order (`count`, `count_2`, …), as JSON rows are objects. */
export function outputNames(plan: QueryPlan): string[] {
  const seen = new Map<string, number>();
  return plan.select.map((s) => {
    const n = (seen.get(s.name) ?? 0) + 1;
    seen.set(s.name, n);
    return n === 1 ? s.name : `${s.name}_${n}`;
  });
}

/** A key cell as JSON: int8 as a number when exact (else text), everything else as it came. */
export function keyJson(cell: Cell): JsonValue {
  if (typeof cell === 'bigint') return Number.isSafeInteger(Number(cell)) ? Number(cell) : cell.toString();
  if (Array.isArray(cell)) return JSON.stringify(cell.map((c) => (typeof c === 'bigint' ? c.toString() : c)));
  return cell as JsonValue;
}

interface Calibrated {
  readonly noise: NoiseSpec | undefined;
  readonly epsilon: number;
}

/** The grid an aggregate's values live on: its column's granularity, or integers for counts. */
export function gridOf(a: AggregateNode): Grid {
  return a.bounds === undefined ? INTEGER_GRID : grid(Number(a.bounds.granularity));
}

export interface ReleaseInput {
  readonly plan: QueryPlan;
  readonly split: BudgetSplit;
  readonly groups: readonly DecodedGroup[];
  readonly rng: RandomSource;
  readonly confidence: number;
}

export function releaseResult({ plan, split, groups, rng, confidence }: ReleaseInput): Release {
  // The split is the plan's own (splitFor): one share per plan measurement, in plan order.
  const calibrated: Calibrated[] = plan.measurements.map((m, i) => {
    const share = split.measurements[i]!;
    if (share.mechanism === 'exponential') return { noise: undefined, epsilon: share.epsilon };
    return { noise: calibrateNoise(m.sensitivity, share), epsilon: share.epsilon };
  });
  const selection =
    plan.partitions.kind === 'private'
      ? partitionThreshold({ epsilon: split.partitionSelection!.epsilon, delta: split.partitionSelection!.delta, maxGroupsPerUnit: plan.bounding.maxGroupsPerUnit })
      : undefined;

  const names = outputNames(plan);
  const groupsOut: ReleasedGroup[] = [];
  const avgStddev = new Map<number, number>();
  for (const group of groups) {
    if (selection !== undefined && !selectPartition(group.units ?? 0n, selection, rng)) continue;
    const noisy = plan.measurements.map((m, i) => {
      const value = group.values[i]!;
      if (m.histogram !== undefined) {
        const a = plan.aggregates[m.aggregate]!;
        const g = gridOf(a);
        return quantileFromHistogram(histogramCounts(value as PendingHistogram), {
          lower: fromGridUnits(m.histogram.lower, g),
          upper: fromGridUnits(m.histogram.upper, g),
          p: a.percentile ?? 0.5,
          epsilon: calibrated[i]!.epsilon,
          // The rank utility moves by at most the histogram's L1 sensitivity (rows per person).
          maxRowsPerUnit: Number(m.sensitivity.l1),
          grid: g,
          gridBounds: m.histogram,
        }, rng);
      }
      return releaseInteger(value as bigint, calibrated[i]!.noise!, rng);
    });
    groupsOut.push({
      keys: group.keys.map(keyJson),
      aggregates: plan.aggregates.map((a) => aggregateValue(plan, a, noisy, calibrated, confidence, avgStddev)),
    });
  }
  // The warehouse returns private groups in its hash-table order, which depends on data beyond
  // the release (table size, keys that were not released): sort them by key values instead.
  // Public domains keep their declared order.
  if (plan.partitions.kind === 'private') groupsOut.sort(compareKeys);
  const rows = applyPostProcessing(plan.post, groupsOut).map((g) => {
    const row: Record<string, JsonValue> = {};
    plan.select.forEach((s, i) => {
      row[names[i]!] = s.ref.kind === 'keyRef' ? (g.keys[s.ref.key] ?? null) : (g.aggregates[s.ref.aggregate] ?? null);
    });
    return row;
  });

  const accuracy: Record<string, ColumnAccuracy> = {};
  plan.select.forEach((s, i) => {
    if (s.ref.kind !== 'aggregateRef') return;
    const a = plan.aggregates[s.ref.aggregate]!;
    accuracy[names[i]!] = accuracyOf(a, calibrated, confidence, avgStddev.get(a.index));
  });
  return { columns: names, rows, accuracy, partitionSelection: plan.partitions.kind };
}

/** A canonical order of released groups: by key values, NULL last, numbers numerically. */
function compareKeys(a: ReleasedGroup, b: ReleasedGroup): number {
  for (let i = 0; i < a.keys.length; i++) {
    const x = a.keys[i] ?? null;
    const y = b.keys[i] ?? null;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    const sx = String(x);
    const sy = String(y);
    if (sx !== sy) return sx < sy ? -1 : 1;
  }
  return 0;
}

function aggregateValue(
  plan: QueryPlan,
  a: AggregateNode,
  noisy: readonly (bigint | number)[],
  calibrated: readonly Calibrated[],
  confidence: number,
  avgStddev: Map<number, number>,
): number {
  const g = gridOf(a);
  const at = (k: number): bigint | number => noisy[a.measurements[k]!]!;
  const real = (units: bigint): number => fromGridUnits(units, g);
  switch (a.fn) {
    case 'count':
    case 'count_distinct_units':
      return Number(releasedCount(at(0) as bigint));
    case 'sum': {
      // A sum of values in [lower, upper] has the sign of the bounds: clamp (post-processing).
      const b = a.bounds!;
      const sum = real(at(0) as bigint);
      if (b.lower >= 0n) return Math.max(0, sum);
      if (b.upper <= 0n) return Math.min(0, sum);
      return sum;
    }
    case 'avg': {
      // Sum of x − c (grid units) and count; AVG = c + S/C, clamped to the bounds.
      const b = a.bounds!;
      const center = real(centerOf(plan, a));
      const sum = real(at(0) as bigint);
      const count = Number(at(1) as bigint);
      const bounds: [number, number] = [real(b.lower) - center, real(b.upper) - center];
      const sumNoise = calibrated[a.measurements[0]!]!.noise!;
      const countNoise = calibrated[a.measurements[1]!]!.noise!;
      const acc = averageAccuracy({
        sum,
        count,
        sumStddev: noiseAccuracy(sumNoise, confidence, g).stddev,
        countStddev: noiseAccuracy(countNoise, confidence).stddev,
        confidence,
      });
      avgStddev.set(a.index, Math.max(avgStddev.get(a.index) ?? 0, acc.stddev));
      return roundToGrid(center + averageFromNoisy(sum, count, bounds), g, [real(b.lower), real(b.upper)]);
    }
    case 'var_pop':
    case 'var_samp':
    case 'stddev_pop':
    case 'stddev_samp': {
      const b = a.bounds!;
      const center = real(centerOf(plan, a));
      const step = g.granularity;
      const variance = varianceFromNoisy({
        count: Number(at(0) as bigint),
        sum: real(at(1) as bigint),
        sumOfSquares: Number(at(2) as bigint) * step * step,
        bounds: [real(b.lower) - center, real(b.upper) - center],
        sample: a.fn.endsWith('_samp'),
      });
      return a.fn.startsWith('stddev') ? Math.sqrt(variance) : variance;
    }
    case 'percentile_cont':
      return at(0) as number;
  }
}

/** The grid value the plan subtracted before summing (the midpoint of the bounds for AVG/VARIANCE). */
function centerOf(plan: QueryPlan, a: AggregateNode): bigint {
  const sum = a.measurements.map((i) => plan.measurements[i]!).find((m) => m.measure === 'sum');
  return sum?.center ?? 0n;
}

/** An AVG is a ratio of noisy values: report it rounded to a finer grid than its column's. */
function roundToGrid(x: number, g: Grid, bounds: readonly [number, number]): number {
  const decimals = Math.min(12, g.decimals + 2);
  const r = Number(x.toFixed(decimals));
  return Math.min(bounds[1], Math.max(bounds[0], r));
}

function accuracyOf(a: AggregateNode, calibrated: readonly Calibrated[], confidence: number, avg: number | undefined): ColumnAccuracy {
  const noiseOf = (k: number): NoiseSpec | undefined => calibrated[a.measurements[k]!]!.noise;
  switch (a.fn) {
    case 'count':
    case 'count_distinct_units': {
      const acc = noiseAccuracy(noiseOf(0)!, confidence);
      return { stddev: acc.stddev, ci: acc.ci, confidence };
    }
    case 'sum': {
      const acc = noiseAccuracy(noiseOf(0)!, confidence, gridOf(a));
      return { stddev: acc.stddev, ci: acc.ci, confidence };
    }
    case 'avg': {
      if (avg === undefined) return { stddev: null, ci: null, confidence, note: 'no group was released' };
      const half = avgHalfWidth(avg, confidence);
      return { stddev: avg, ci: [-half, half], confidence, approximate: true };
    }
    default:
      return { stddev: null, ci: null, confidence, note: 'no closed-form interval for this aggregate' };
  }
}

/** Normal half-width z·σ for the delta-method AVG interval (averageAccuracy's own formula). */
function avgHalfWidth(stddev: number, confidence: number): number {
  return averageAccuracy({ sum: 0, count: 1, sumStddev: stddev, countStddev: 0, confidence }).halfWidth;
}
