/**
 * A DP quantile of a bounded column, from a histogram, by the exponential mechanism.
 *
 * The SQL side delivers, per group, counts c_0..c_{B−1} of the (bounded, clamped) values in B
 * equal-width bins over [lower, upper]; each unit contributes at most R = maxRowsPerUnit rows.
 * With n = Σc and R_j = Σ_{i<j} c_i (the rank where bin j starts), the utility of bin j is
 *
 *     u_j = −dist(p·n, [R_j, R_{j+1}])  (0 for the bin holding rank p·n),
 *
 * which moves by at most R between neighbours (each R_j and p·n move by ≤ R in the same
 * direction), so Δu = R. Bin j is drawn with probability ∝ width·exp(ε·u_j/(2Δu)) (McSherry &
 * Talwar 2007; equal widths cancel), then a point uniformly inside it. That is ε-DP, and also
 * ε²/8-zCDP (bounded range; Cesar & Rogers 2021), which budget-split.ts uses in gaussian queries.
 *
 * Why this sampler: instead of floating-point weights (which would need log-sum-exp and leave a
 * rounding gap in the guarantee), bins are proposed uniformly and accepted with an exact
 * Bernoulli(exp(−γ_j)) on the rational γ_j = ε·|u_j|/(2R) (exp-threshold.ts). The first accepted
 * proposal follows the exponential mechanism's law exactly. Its running time does not depend on
 * the data: every draw makes the same 28·B proposals, each drawing the same random words and
 * making the same comparisons whether or not a bin was accepted already (the coin's exact
 * refinement runs with probability below 2^-31 per proposal, and more proposals are needed with
 * probability below 2^-40: the only, rare, data-dependent work). The point inside the bin is post-processing: on a grid, a uniform grid point
 * of the bin — bin i of B over the W grid points [lo, hi] holds lo + ⌈i·W/B⌉ … lo + ⌈(i+1)·W/B⌉ − 1,
 * the SQL's own binning (sql/histogram.ts) — never a real point rounded, which could land in a
 * neighbouring bin on narrow grids; without a grid, a uniform 53-bit fraction of the bin.
 */
import { DpParameterError, checkEpsilon, checkFinite, checkNonNegativeInteger, checkPositiveInteger, checkProbability } from './checks.ts';
import { type Grid, fromGridUnits, toGridUnits } from './grid.ts';
import { decideExpCoin, expCoin, fastExpCoin, flipExpCoin } from './exp-threshold.ts';
import type { RandomSource } from './random.ts';
import { rationalFromNumber } from './rational.ts';

export interface QuantileParams {
  readonly lower: number;
  readonly upper: number;
  /** The quantile in [0, 1] (0.5 for the median). */
  readonly p: number;
  /** ε of this measurement (`MeasurementBudget.epsilon` of an `exponential` share). */
  readonly epsilon: number;
  readonly maxRowsPerUnit: number;
  /** When given, the result is a grid point of the chosen bin (and kept within the bounds). */
  readonly grid?: Grid;
  /** The histogram's bounds in grid units (default: `lower` and `upper` on `grid`). */
  readonly gridBounds?: { readonly lower: bigint; readonly upper: bigint };
}

/** The index of the bin chosen by the exponential mechanism (exposed for tests). */
export function quantileBin(counts: readonly (bigint | number)[], params: QuantileParams, rng: RandomSource): number {
  const b = counts.length;
  if (b < 1) throw new DpParameterError('counts', 'needs at least one bin');
  checkEpsilon(params.epsilon);
  checkProbability(params.p, 'p');
  const r = BigInt(checkPositiveInteger(params.maxRowsPerUnit, 'maxRowsPerUnit'));
  const c = counts.map((x, i) => checkNonNegativeInteger(x, `counts[${i}]`));
  const n = c.reduce((a, x) => a + x, 0n);
  const p = rationalFromNumber(params.p);
  const eps = rationalFromNumber(params.epsilon);
  // Everything scaled by p.den: the target rank is p·n = p.num·n / p.den.
  const target = p.num * n;
  const den = eps.den * p.den * 2n * r;
  const gammaNum: bigint[] = [];
  let start = 0n;
  for (const x of c) {
    const lo = start * p.den;
    const hi = (start + x) * p.den;
    const dist = target < lo ? lo - target : target > hi ? target - hi : 0n;
    gammaNum.push(eps.num * dist);
    start += x;
  }
  const coins = gammaNum.map((num) => expCoin({ num, den }));
  // A fixed number of proposals, each drawing the same random words, whatever was accepted: the
  // first accepted one is the answer. All fail with probability ≤ (1 − 1/B)^(28B) < e^-28 < 2^-40
  // (the best bin always accepts); only then does the draw go on.
  let chosen = -1;
  for (let i = 0; i < PROPOSALS_PER_BIN * b; i++) {
    const j = rng.uniformInt(b);
    const w = rng.nextUint32();
    // The same comparisons every time; the (rare) exact refinement only while nothing is chosen.
    const verdict = fastExpCoin(coins[j]!, w);
    if (chosen < 0 && (verdict === true || (verdict === undefined && decideExpCoin(rng, coins[j]!, w)))) chosen = j;
  }
  while (chosen < 0) {
    const j = rng.uniformInt(b);
    if (flipExpCoin(rng, coins[j]!)) chosen = j;
  }
  return chosen;
}

/** Proposals per bin and draw (see quantileBin). */
export const PROPOSALS_PER_BIN = 28;

/**
 * A DP p-quantile from per-bin counts over [lower, upper]: exponential mechanism over the bins,
 * then a uniform point in the chosen bin. Always finite and within [lower, upper].
 */
export function quantileFromHistogram(counts: readonly (bigint | number)[], params: QuantileParams, rng: RandomSource): number {
  const lower = checkFinite(params.lower, 'lower');
  const upper = checkFinite(params.upper, 'upper');
  if (!(lower <= upper)) throw new DpParameterError('bounds', 'lower bound above upper bound');
  const j = quantileBin(counts, params, rng);
  if (params.grid === undefined) {
    const width = (upper - lower) / counts.length;
    return Math.min(upper, Math.max(lower, lower + (j + rng.uniformFraction()) * width));
  }
  const g = params.grid;
  const lo = params.gridBounds?.lower ?? toGridUnits(lower, g);
  const hi = params.gridBounds?.upper ?? toGridUnits(upper, g);
  const w = hi - lo + 1n;
  const b = BigInt(counts.length);
  const edge = (i: bigint): bigint => lo + (i * w + b - 1n) / b;
  const first = edge(BigInt(j));
  const points = edge(BigInt(j) + 1n) - first; // ≥ 1: a histogram has at most one bin per grid point
  const x = points > 1n ? first + rng.uniformBigInt(points) : first;
  return Math.min(upper, Math.max(lower, fromGridUnits(x, g)));
}
