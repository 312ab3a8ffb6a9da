/**
 * Post-processing of noisy measurements into the released aggregates (free of privacy cost).
 *
 * privacy.md fixes the shapes: a COUNT is a non-negative integer; AVG = noisy clamped sum /
 * max(1, noisy count), clamped to the bounds; VARIANCE likewise from noisy moments, clamped to
 * [0, ((upper − lower)/2)²], the largest population variance a bounded column can have.
 */
import { checkFinite } from './checks.ts';

/** A noisy count as released: max(0, value). */
export function releasedCount(noisy: bigint): bigint {
  return noisy < 0n ? 0n : noisy;
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** AVG from a noisy SUM and a noisy COUNT (column units), clamped to the bounds. */
export function averageFromNoisy(sum: number, count: number, bounds: readonly [number, number]): number {
  checkFinite(sum, 'sum');
  checkFinite(count, 'count');
  return clamp(sum / Math.max(1, count), bounds[0], bounds[1]);
}

/**
 * VARIANCE from noisy COUNT, SUM and SUM of squares (column units and units²):
 * population S2/C − (S/C)², or ×C/(C − 1) for the sample variance, clamped to the feasible range.
 */
export function varianceFromNoisy(input: {
  readonly count: number;
  readonly sum: number;
  readonly sumOfSquares: number;
  readonly bounds: readonly [number, number];
  readonly sample: boolean;
}): number {
  checkFinite(input.count, 'count');
  checkFinite(input.sum, 'sum');
  checkFinite(input.sumOfSquares, 'sumOfSquares');
  const c = Math.max(1, input.count);
  const mean = input.sum / c;
  let v = input.sumOfSquares / c - mean * mean;
  if (input.sample) v = c > 1 ? (v * c) / (c - 1) : 0;
  const half = (input.bounds[1] - input.bounds[0]) / 2;
  const maxVariance = input.sample ? half * half * 2 : half * half; // sample variance of n ≥ 2 values: ≤ n/(n−1)·max ≤ 2·max
  return clamp(Number.isFinite(v) ? v : 0, 0, maxVariance);
}
