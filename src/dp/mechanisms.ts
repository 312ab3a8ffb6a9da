/**
 * The measurements: add exact discrete noise to an integer query, or to a real query through its
 * granularity grid. One call is one draw; the caller stores the release and never re-draws it.
 *
 * For a real-valued query the value is clamped (by the SQL side, or here by `releaseReal`'s
 * bounds), rounded to the grid, and the integer `value/g` is noised with a sensitivity expressed
 * in grid units (sensitivity.ts), so the rounding is inside the sensitivity: the released number
 * units·g is on the grid, and is always finite (grid.ts saturates).
 */
import type { NoiseSpec } from './calibrate.ts';
import { checkFinite } from './checks.ts';
import { sampleDiscreteGaussian } from './discrete-gaussian.ts';
import { sampleDiscreteLaplace } from './discrete-laplace.ts';
import { type Grid, fromGridUnits, toGridUnits } from './grid.ts';
import type { RandomSource } from './random.ts';

/** One draw of the noise, in grid units. */
export function sampleNoise(noise: NoiseSpec, rng: RandomSource): bigint {
  return noise.mechanism === 'laplace' ? sampleDiscreteLaplace(noise.scale, rng) : sampleDiscreteGaussian(noise.sigma2, rng);
}

/** value + noise for an integer query (value and result in grid units). */
export function releaseInteger(value: bigint, noise: NoiseSpec, rng: RandomSource): bigint {
  if (typeof value !== 'bigint') throw new TypeError('releaseInteger: value must be a bigint');
  return value + sampleNoise(noise, rng);
}

/**
 * A real query released on its grid: round(clamp(value)/g) + noise, returned as a number on the
 * grid. `bounds`, when given, clamps first (the sensitivity must have been computed from them).
 */
export function releaseReal(
  value: number,
  g: Grid,
  noise: NoiseSpec,
  rng: RandomSource,
  bounds?: readonly [number, number],
): number {
  checkFinite(value, 'value');
  const clamped = bounds === undefined ? value : Math.min(Math.max(value, bounds[0]), bounds[1]);
  return fromGridUnits(releaseInteger(toGridUnits(clamped, g), noise, rng), g);
}

/** A noisy integer in grid units as a number on the grid (for SUMs delivered in grid units). */
export function gridValue(units: bigint, g: Grid): number {
  return fromGridUnits(units, g);
}
