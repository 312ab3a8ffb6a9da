/**
 * The inverse question of `POST /v1/queries/estimate`: which query ε gives one column a requested
 * interval half-width at a confidence? It reads no data: it searches the integer micro-ε of the
 * whole query, running the real budget split and calibration at each step, so the answer accounts
 * for the column's share, the rounding of units and (for gaussian) the zCDP conversion at δ.
 * Shares grow with ε, so the half-width shrinks monotonically and bisection finds the smallest ε.
 */
import { halfWidthUnits } from './accuracy.ts';
import { type BudgetRequest, type MeasurementPart, splitBudget } from './budget-split.ts';
import { calibrateNoise } from './calibrate.ts';
import { DpParameterError, checkConfidence, checkPositiveFinite } from './checks.ts';
import { type Grid, INTEGER_GRID } from './grid.ts';
import { floorDiv, rationalFromNumber } from './rational.ts';
import type { Sensitivity } from './sensitivity.ts';
import { MICRO, microToEpsilon } from './units.ts';

export interface HalfWidthTarget {
  /** The query without its ε. */
  readonly request: Omit<BudgetRequest, 'epsilon'>;
  /** The aggregate (as in `request.measurements[].aggregate`). */
  readonly aggregate: number;
  /** Which of its measurements (default: its first, e.g. `sum` for AVG). */
  readonly part?: MeasurementPart;
  /** Sensitivity of that measurement in grid units. */
  readonly sensitivity: Sensitivity;
  readonly grid?: Grid;
  /** Requested half-width in the column's units. */
  readonly halfWidth: number;
  readonly confidence: number;
  /** Search limit (default 1000). */
  readonly maxEpsilon?: number;
}

/** The smallest query ε (a whole number of micro-ε) meeting the target; DpParameterError if none ≤ maxEpsilon. */
export function epsilonForQueryHalfWidth(target: HalfWidthTarget): number {
  checkPositiveFinite(target.halfWidth, 'halfWidth');
  checkConfidence(target.confidence);
  const g = target.grid ?? INTEGER_GRID;
  const hw = rationalFromNumber(target.halfWidth);
  const limitUnits = floorDiv(hw.num * 10n ** BigInt(g.decimals), hw.den * g.stepUnits);
  const maxMicro = Math.round(checkPositiveFinite(target.maxEpsilon ?? 1000, 'maxEpsilon') * MICRO);

  const ok = (micro: number): boolean => {
    let split;
    try {
      split = splitBudget({ ...target.request, epsilon: microToEpsilon(micro) });
    } catch (e: unknown) {
      if (e instanceof DpParameterError && e.param === 'epsilon') return false; // too small to split
      throw e;
    }
    const m = split.measurements.find((x) => x.aggregate === target.aggregate && (target.part === undefined || x.part === target.part));
    if (m === undefined) throw new DpParameterError('aggregate', `no ${target.part ?? 'measurement'} for aggregate ${target.aggregate}`);
    if (m.mechanism === 'exponential') throw new DpParameterError('aggregate', 'a quantile has no additive-noise interval');
    return halfWidthUnits(calibrateNoise(target.sensitivity, m), target.confidence) <= limitUnits;
  };

  if (!ok(maxMicro)) throw new DpParameterError('halfWidth', `not reachable with ε ≤ ${microToEpsilon(maxMicro)}`);
  let lo = 0; // not ok (ε = 0)
  let hi = maxMicro; // ok
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (mid > 0 && ok(mid)) hi = mid;
    else lo = mid;
  }
  return microToEpsilon(hi);
}
