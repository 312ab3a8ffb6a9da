/**
 * The granularity grid: how a real-valued column becomes an integer query and back.
 *
 * A numeric value is clamped to its bounds and rounded to a multiple of its `granularity` g; the
 * query is then the integer "value / g" (grid units), noised exactly, and released as
 * units·g. The step is kept as the exact decimal g = stepUnits·10^−decimals, so the way back
 * parses a decimal string and yields the double nearest to the grid point (0.07, not
 * 7 × 0.01 = 0.07000000000000001): released values sit on the grid as exactly as doubles allow.
 */
import { checkFinite, checkPositiveFinite } from './checks.ts';
import { ceilDiv, rationalFromNumber } from './rational.ts';

export interface Grid {
  readonly granularity: number;
  /** g = stepUnits · 10^(−decimals), exactly. */
  readonly stepUnits: bigint;
  readonly decimals: number;
}

const DECIMAL = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/;

/** The grid of a granularity g > 0, read as the decimal it prints as. */
export function grid(granularity: number): Grid {
  checkPositiveFinite(granularity, 'granularity');
  const m = DECIMAL.exec(String(granularity))!;
  const [, int, frac = '', exp = '0'] = m;
  let stepUnits = BigInt(`${int}${frac}`);
  let decimals = frac.length - Number(exp);
  if (decimals < 0) {
    stepUnits *= 10n ** BigInt(-decimals);
    decimals = 0;
  }
  return Object.freeze({ granularity, stepUnits, decimals });
}

/** The unit grid (integers). */
export const INTEGER_GRID: Grid = grid(1);

/** Nearest grid point to `value`, in grid units (ties away from zero), computed exactly. */
export function toGridUnits(value: number, g: Grid): bigint {
  checkFinite(value, 'value');
  const r = rationalFromNumber(value);
  // value / g = r.num·10^d / (r.den·stepUnits)
  const num = r.num * 10n ** BigInt(g.decimals);
  const den = r.den * g.stepUnits;
  const negative = num < 0n;
  const a = negative ? -num : num;
  const q = (2n * a + den) / (2n * den); // round half up on |value|
  return negative ? -q : q;
}

/** units·g as the double nearest the exact decimal; saturates at ±Number.MAX_VALUE (always finite). */
export function fromGridUnits(units: bigint, g: Grid): number {
  const v = Number(`${units * g.stepUnits}e-${g.decimals}`);
  if (v === Infinity) return Number.MAX_VALUE;
  if (v === -Infinity) return -Number.MAX_VALUE;
  return v;
}

/**
 * The largest |grid value| a clamped, rounded value can take: ⌈max(|lower|, |upper|)/g⌉.
 * Rounding to the nearest grid point never moves a value beyond the next grid point outward, so
 * |round(v/g)| ≤ ⌈|v|/g⌉ ≤ ⌈max(|lower|, |upper|)/g⌉ for every v in [lower, upper].
 */
export function maxAbsGridUnits(bounds: readonly [number, number], g: Grid): bigint {
  const [lower, upper] = bounds;
  checkFinite(lower, 'bounds');
  checkFinite(upper, 'bounds');
  const m = Math.max(Math.abs(lower), Math.abs(upper));
  const r = rationalFromNumber(m);
  return ceilDiv(r.num * 10n ** BigInt(g.decimals), r.den * g.stepUnits);
}
