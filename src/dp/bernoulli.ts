/**
 * Exact Bernoulli samplers: Bernoulli(p) for rational p and Bernoulli(exp(−γ)) for rational γ ≥ 0.
 *
 * Bernoulli(exp(−γ)) is Algorithm 1 of Canonne, Kamath and Steinke, "The Discrete Gaussian for
 * Differential Privacy" (NeurIPS 2020, arXiv:2004.00010): for γ ≤ 1 it counts how long a run of
 * Bernoulli(γ/k) successes lasts (k = 1, 2, …) and answers "the run length K is odd", whose
 * probability is Σ (−γ)^j / j! = exp(−γ); for γ > 1 it multiplies ⌊γ⌋ draws of Bernoulli(exp(−1))
 * by one of Bernoulli(exp(−(γ − ⌊γ⌋))). Only integer comparisons are made, so the result is exact.
 *
 * A `number` path serves parameters that fit in 2^53 (the common case, and the hot one); it falls
 * back to BigInt the moment an intermediate would not be a safe integer, continuing the same draw,
 * so exactness never depends on the size of the parameters.
 */
import type { RandomSource } from './random.ts';
import type { Rational } from './rational.ts';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(MAX_SAFE);

/** Bernoulli(p) for a rational p = num/den in [0, 1]. */
export function bernoulliRational(rng: RandomSource, p: Rational): boolean {
  if (p.num <= 0n) return false;
  if (p.num >= p.den) return true;
  return rng.uniformBigInt(p.den) < p.num;
}

/** Bernoulli(exp(−1)): Algorithm 1 with γ = 1 (the first Bernoulli(1/1) always succeeds). */
export function bernoulliExpMinusOne(rng: RandomSource): boolean {
  let k = 2;
  while (rng.uniformInt(k) === 0) k++;
  return (k & 1) === 1;
}

/**
 * Bernoulli(exp(−n/d)) for safe integers n ≥ 0, d ≥ 1 (the fast path of `bernoulliExpNeg`).
 */
export function bernoulliExpNegSmall(rng: RandomSource, n: number, d: number): boolean {
  if (n > d) {
    let whole = Math.floor(n / d);
    let rem = n - whole * d; // whole·d ≤ n is exact; correct a float quotient that rounded up
    while (rem < 0) {
      whole -= 1;
      rem += d;
    }
    while (rem >= d) {
      whole += 1;
      rem -= d;
    }
    for (let i = 0; i < whole; i++) if (!bernoulliExpMinusOne(rng)) return false;
    n = rem;
  }
  if (n === 0) return true;
  // γ = n/d ≤ 1: K ← 1; while Bernoulli(γ/K) succeeds, K ← K + 1; answer "K is odd".
  let k = 1;
  for (;;) {
    const kd = k * d;
    const success = kd <= MAX_SAFE ? rng.uniformInt(kd) < n : rng.uniformBigInt(BigInt(k) * BigInt(d)) < BigInt(n);
    if (!success) break;
    k++;
  }
  return (k & 1) === 1;
}

/** Bernoulli(exp(−γ)) for a rational γ = num/den ≥ 0 (need not be reduced). */
export function bernoulliExpNeg(rng: RandomSource, gamma: Rational): boolean {
  let n = gamma.num;
  const d = gamma.den;
  if (n < 0n || d <= 0n) throw new RangeError('bernoulliExpNeg: γ must be ≥ 0 with a positive denominator');
  if (n <= MAX_SAFE_BIG && d <= MAX_SAFE_BIG) return bernoulliExpNegSmall(rng, Number(n), Number(d));
  if (n > d) {
    const whole = n / d;
    for (let i = 0n; i < whole; i++) if (!bernoulliExpMinusOne(rng)) return false;
    n %= d;
  }
  if (n === 0n) return true;
  if (d <= MAX_SAFE_BIG) return bernoulliExpNegSmall(rng, Number(n), Number(d));
  let k = 1n;
  while (rng.uniformBigInt(k * d) < n) k++;
  return (k & 1n) === 1n;
}
