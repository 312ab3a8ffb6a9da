/**
 * The sensitivity type the mechanisms calibrate to: L1 (Laplace) and squared L2 (Gaussian) of a
 * measurement, exact integers in grid units.
 *
 * The sensitivity of each aggregate is derived in one place only — the query plan
 * (src/sql/plan/sensitivity.ts, from maxRowsPerUnit, maxGroupsPerUnit and the bounds) — and handed to
 * this library as a value, in the OpenDP manner: transformations state their sensitivity,
 * measurements calibrate to it.
 */
import { checkPositiveBigInt } from './checks.ts';

export interface Sensitivity {
  /** L1 sensitivity in grid units (Laplace). */
  readonly l1: bigint;
  /** Squared L2 sensitivity in grid units (Gaussian: σ² = l2Squared/(2ρ)). */
  readonly l2Squared: bigint;
}



/** A scalar integer query with sensitivity Δ: L1 = Δ, L2² = Δ². */
export function integerSensitivity(delta: bigint): Sensitivity {
  checkPositiveBigInt(delta, 'sensitivity');
  return Object.freeze({ l1: delta, l2Squared: delta * delta });
}
