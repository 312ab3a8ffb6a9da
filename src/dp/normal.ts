/**
 * The standard normal distribution: erfc, CDF and quantile, to near machine precision.
 *
 * Used where a normal approximation is the honest answer (the delta-method interval of an AVG) and
 * for discrete Gaussian tails at very large σ. erfc uses the Maclaurin series of erf for |x| < 1
 * and the classical continued fraction erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))
 * beyond (Abramowitz & Stegun 7.1.5 and 7.1.14), evaluated bottom-up with enough terms for 1e-15.
 */

const SQRT_PI = Math.sqrt(Math.PI);

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 1) {
    // erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    for (let n = 1; n < 100; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / SQRT_PI) * sum;
  }
  if (x > 27) return 0;
  // Continued fraction, evaluated from the tail: f = x + (k/2)/f.
  let f = x;
  for (let k = 300; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / SQRT_PI / f;
}

/** P[N ≤ x] for N ~ N(0, 1). */
export const normalCdf = (x: number): number => 0.5 * erfc(-x / Math.SQRT2);

/** P[N > x] for N ~ N(0, 1), accurate in the far tail. */
export const normalUpperTail = (x: number): number => 0.5 * erfc(x / Math.SQRT2);

/** The x with P[N ≤ x] = p, for 0 < p < 1 (bisection on the CDF to machine precision). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  if (p > 0.5) return -normalQuantile(1 - p);
  // p ≤ 0.5: x ≤ 0; search on the lower tail, which is accurate for small p.
  let lo = -40;
  let hi = 0;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * Math.max(1, Math.abs(lo)); i++) {
    const mid = (lo + hi) / 2;
    if (normalUpperTail(-mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
