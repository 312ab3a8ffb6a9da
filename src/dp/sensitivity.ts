/**
 * Sensitivities of the aggregates, in one place, derived from the policy's contribution bounds.
 *
 * Neighbouring databases differ by all rows of one person (add/remove). Before aggregation the
 * SQL side keeps at most R = maxRowsPerUnit rows and at most k = maxGroupsPerUnit group keys per
 * person, clamps values to [lower, upper] and rounds them to the granularity g. In grid units a
 * value is an integer of absolute value at most M = ⌈max(|lower|, |upper|)/g⌉ (grid.ts).
 *
 * Sensitivities are of the whole vector of per-group results (one person may touch k groups):
 *
 * | measurement        | L1 (Laplace)       | L2² (Gaussian)     | why                                    |
 * |--------------------|--------------------|--------------------|----------------------------------------|
 * | COUNT(*) / COUNT(c) | R                 | R²                 | ≤ R rows in all; worst case one group  |
 * | COUNT(DISTINCT u)  | k' = min(k, R)     | k'                 | 1 in each of ≤ k' groups               |
 * | SUM(c)             | R·M                | (R·M)²             | ≤ R rows of |value| ≤ M                 |
 * | SUM(c²) (variance) | R·M²               | (R·M²)²            | ≤ R rows of value² ≤ M²                |
 * | quantile utility   | R                  | —                  | a rank moves by ≤ R (quantile.ts)      |
 * | partition selection| k                  | —                  | distinct-unit count, ≤ k groups         |
 *
 * Without GROUP BY pass maxGroupsPerUnit = 1.
 */
import { checkPositiveBigInt, checkPositiveInteger } from './checks.ts';
import { type Grid, maxAbsGridUnits } from './grid.ts';

export interface Sensitivity {
  /** L1 sensitivity in grid units (Laplace). */
  readonly l1: bigint;
  /** Squared L2 sensitivity in grid units (Gaussian: σ² = l2Squared/(2ρ)). */
  readonly l2Squared: bigint;
}

export interface ContributionBounds {
  /** Rows one person may contribute to one query (after bounding). */
  readonly maxRowsPerUnit: number;
  /** Distinct group keys one person may contribute to (1 without GROUP BY). Default: maxRowsPerUnit. */
  readonly maxGroupsPerUnit?: number;
}

export interface BoundedColumn {
  readonly bounds: readonly [number, number];
  readonly grid: Grid;
}

/** A scalar integer query with sensitivity Δ: L1 = Δ, L2² = Δ². */
export function integerSensitivity(delta: bigint): Sensitivity {
  checkPositiveBigInt(delta, 'sensitivity');
  return Object.freeze({ l1: delta, l2Squared: delta * delta });
}

const rows = (c: ContributionBounds): bigint => BigInt(checkPositiveInteger(c.maxRowsPerUnit, 'maxRowsPerUnit'));
const groups = (c: ContributionBounds): bigint => {
  const r = checkPositiveInteger(c.maxRowsPerUnit, 'maxRowsPerUnit');
  const k = checkPositiveInteger(c.maxGroupsPerUnit ?? r, 'maxGroupsPerUnit');
  return BigInt(Math.min(k, r));
};
const nonZero = (m: bigint): bigint => (m === 0n ? 1n : m); // bounds [0, 0]: keep Δ ≥ 1 (noise stays defined)

export function countSensitivity(c: ContributionBounds): Sensitivity {
  return integerSensitivity(rows(c));
}

export function countDistinctSensitivity(c: ContributionBounds): Sensitivity {
  const k = groups(c);
  return Object.freeze({ l1: k, l2Squared: k });
}

export function sumSensitivity(c: ContributionBounds, column: BoundedColumn): Sensitivity {
  return integerSensitivity(rows(c) * nonZero(maxAbsGridUnits(column.bounds, column.grid)));
}

/** For SUM(value²) in grid² units (value in grid units, squared). */
export function sumOfSquaresSensitivity(c: ContributionBounds, column: BoundedColumn): Sensitivity {
  const m = nonZero(maxAbsGridUnits(column.bounds, column.grid));
  return integerSensitivity(rows(c) * m * m);
}

/** Sensitivity of the quantile's rank utility (quantile.ts). */
export function quantileUtilitySensitivity(c: ContributionBounds): bigint {
  return rows(c);
}

/** L1 sensitivity of the per-group distinct-unit counts used by partition selection. */
export function partitionSelectionSensitivity(c: ContributionBounds): bigint {
  return groups(c);
}
