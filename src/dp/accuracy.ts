/**
 * Accuracy of a release: the noise's standard deviation and a two-sided interval that contains
 * the noise with at least the requested confidence, in the column's units (api.md: `ci` is the
 * interval of the noise term, not of clamping bias).
 *
 * - Discrete Laplace: exact. With q = exp(−1/t), P[|Z| ≤ h] = 1 − 2q^(h+1)/(1 + q), so the
 *   smallest integer h with coverage ≥ c is ⌈t·ln(2/((1 − c)(1 + q)))⌉ − 1 (checked on both sides).
 * - Discrete Gaussian: the pmf is summed outward from 0 until the coverage reaches c (exact up to
 *   float summation) while σ ≤ 2^16 grid units; beyond, the sum equals the continuous normal
 *   integral with continuity correction up to O(1/σ²), and one grid step of margin is added so
 *   the interval is never narrower than the exact one.
 * - AVG = S/C: delta method, Var ≈ (σ_S² + A²·σ_C²)/C² with A and C the released values, and a
 *   normal interval; flagged `approximate: true`.
 * The inverse (`epsilonForHalfWidth`, `rhoForHalfWidth`) bisects on the calibrated noise itself,
 * so the ε it returns, once calibrated, does give the requested half-width.
 */
import { type NoiseSpec, gaussianNoise, laplaceNoise } from './calibrate.ts';
import { checkConfidence, checkFinite, checkPositiveFinite } from './checks.ts';
import { discreteGaussianNormalizer, discreteGaussianVariance } from './discrete-gaussian.ts';
import { discreteLaplaceVariance } from './discrete-laplace.ts';
import { type Grid, INTEGER_GRID, fromGridUnits } from './grid.ts';
import { normalQuantile } from './normal.ts';
import { type Rational, floorDiv, rationalFromNumber, toNumber } from './rational.ts';
import type { Sensitivity } from './sensitivity.ts';

export interface Accuracy {
  /** Standard deviation of the noise, in the column's units. */
  readonly stddev: number;
  /** Half-width of the interval, in the column's units. */
  readonly halfWidth: number;
  /** [−halfWidth, +halfWidth]: contains the noise with probability ≥ confidence. */
  readonly ci: readonly [number, number];
  readonly confidence: number;
  /** True when the interval comes from an approximation (delta method), not the exact noise law. */
  readonly approximate: boolean;
}

/** Laplace coverage P[|Z| ≤ h] for Z ~ Lap_Z(t). */
function laplaceCoverage(h: number, t: number): number {
  const q = Math.exp(-1 / t);
  return 1 - (2 * Math.exp(-(h + 1) / t)) / (1 + q);
}

/** The smallest integer h ≥ 0 with P[|Z| ≤ h] ≥ confidence for Z ~ Lap_Z(scale). */
export function laplaceHalfWidthUnits(scale: Rational | number, confidence: number): bigint {
  checkConfidence(confidence);
  const t = typeof scale === 'number' ? scale : toNumber(scale);
  const q = Math.exp(-1 / t);
  let h = Math.max(0, Math.ceil(t * Math.log(2 / ((1 - confidence) * (1 + q))) - 1));
  if (h > 2 ** 50) return BigInt(h); // beyond float resolution of h: the closed form is all we have
  while (h > 0 && laplaceCoverage(h - 1, t) >= confidence) h--;
  while (laplaceCoverage(h, t) < confidence) h++;
  return BigInt(h);
}

const SUM_LIMIT = 2 ** 16;

/** The smallest integer h ≥ 0 with P[|Z| ≤ h] ≥ confidence for Z ~ N_Z(0, σ²). */
export function gaussianHalfWidthUnits(sigma2: Rational | number, confidence: number): bigint {
  checkConfidence(confidence);
  const sigma = Math.sqrt(typeof sigma2 === 'number' ? sigma2 : toNumber(sigma2));
  if (sigma > SUM_LIMIT) {
    // Continuity-corrected normal integral, plus one step of margin (see header).
    return BigInt(Math.max(0, Math.ceil(normalQuantile((1 + confidence) / 2) * sigma - 0.5)) + 1);
  }
  const z = discreteGaussianNormalizer(sigma);
  const twoSigma2 = 2 * sigma * sigma;
  let cover = 1 / z;
  let h = 0;
  while (cover < confidence) {
    h++;
    cover += (2 * Math.exp(-(h * h) / twoSigma2)) / z;
  }
  return BigInt(h);
}

/** Half-width of the noise in grid units for a calibrated noise spec. */
export function halfWidthUnits(noise: NoiseSpec, confidence: number): bigint {
  return noise.mechanism === 'laplace' ? laplaceHalfWidthUnits(noise.scale, confidence) : gaussianHalfWidthUnits(noise.sigma2, confidence);
}

/** Standard deviation of the noise in grid units. */
export function noiseStddevUnits(noise: NoiseSpec): number {
  return Math.sqrt(noise.mechanism === 'laplace' ? discreteLaplaceVariance(noise.scale) : discreteGaussianVariance(noise.sigma2));
}

/** stddev and interval of a released aggregate's noise, scaled back to the column's units by the grid. */
export function noiseAccuracy(noise: NoiseSpec, confidence: number, g: Grid = INTEGER_GRID): Accuracy {
  checkConfidence(confidence);
  const h = halfWidthUnits(noise, confidence);
  const halfWidth = fromGridUnits(h, g);
  return Object.freeze({
    stddev: noiseStddevUnits(noise) * g.granularity,
    halfWidth,
    ci: Object.freeze([-halfWidth, halfWidth] as const),
    confidence,
    approximate: false,
  });
}

/**
 * Approximate accuracy of AVG = S / max(1, C) by the delta method, from the released S and C and
 * their noise stddevs (all in the column's units; C in rows).
 */
export function averageAccuracy(input: {
  readonly sum: number;
  readonly count: number;
  readonly sumStddev: number;
  readonly countStddev: number;
  readonly confidence: number;
}): Accuracy {
  const confidence = checkConfidence(input.confidence);
  checkFinite(input.sum, 'sum');
  checkFinite(input.count, 'count');
  const c = Math.max(1, input.count);
  const avg = input.sum / c;
  const stddev = Math.sqrt(input.sumStddev ** 2 + avg * avg * input.countStddev ** 2) / c;
  const halfWidth = normalQuantile((1 + confidence) / 2) * stddev;
  return Object.freeze({ stddev, halfWidth, ci: Object.freeze([-halfWidth, halfWidth] as const), confidence, approximate: true });
}

/** ⌊halfWidth / g⌋: the widest integer half-width (grid units) that stays within `halfWidth`. */
function halfWidthToUnits(halfWidth: number, g: Grid): bigint {
  checkPositiveFinite(halfWidth, 'halfWidth');
  const r = rationalFromNumber(halfWidth);
  return floorDiv(r.num * 10n ** BigInt(g.decimals), r.den * g.stepUnits);
}

/** Smallest x in (0, ∞) (to relative 1e-12) with ok(x), for ok monotone (false then true). */
function smallestPassing(ok: (x: number) => boolean, start: number): number {
  let lo = start;
  let hi = start;
  while (ok(lo) && lo > 1e-300) lo /= 2;
  while (!ok(hi)) {
    hi *= 2;
    if (!Number.isFinite(hi)) throw new RangeError('no parameter reaches the requested accuracy');
  }
  if (ok(lo)) return lo;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The smallest ε for which Laplace noise on a query of this sensitivity has a half-width ≤
 * `halfWidth` (column units) at `confidence`. Exact: bisection on the calibrated noise.
 */
export function epsilonForHalfWidth(sensitivity: Sensitivity, halfWidth: number, confidence: number, g: Grid = INTEGER_GRID): number {
  checkConfidence(confidence);
  const target = halfWidthToUnits(halfWidth, g);
  const ok = (epsilon: number): boolean => halfWidthUnits(laplaceNoise(sensitivity, epsilon), confidence) <= target;
  return smallestPassing(ok, 1);
}

/**
 * The smallest ρ for which Gaussian noise on a query of this sensitivity has a half-width ≤
 * `halfWidth` at `confidence`. Convert to ε with `zcdpToEpsilon(ρ, δ)`.
 */
export function rhoForHalfWidth(sensitivity: Sensitivity, halfWidth: number, confidence: number, g: Grid = INTEGER_GRID): number {
  checkConfidence(confidence);
  const target = halfWidthToUnits(halfWidth, g);
  const ok = (rho: number): boolean => halfWidthUnits(gaussianNoise(sensitivity, rho), confidence) <= target;
  return smallestPassing(ok, 0.01);
}

