/**
 * The discrete Gaussian N_Z(0, σ²): P[X = x] ∝ exp(−x²/(2σ²)) on the integers.
 *
 * Sampling is Algorithm 3 of Canonne, Kamath and Steinke (2020): propose Y ~ Lap_Z(t) with
 * t = ⌊σ⌋ + 1 and accept with probability exp(−(|Y| − σ²/t)²/(2σ²)), evaluated exactly by
 * Algorithm 1 on the rational γ = (|Y|·b·t − a)² / (2·a·b·t²) for σ² = a/b. Exact, no floats.
 *
 * Adding N_Z(0, Δ²/(2ρ)) to an integer query of L2 sensitivity Δ gives ρ-zCDP (CKS 2020, Thm 4);
 * its variance is at most σ² (CKS 2020, Prop. 5 / Cor. 9), so σ is a safe stddev to report.
 */
import { bernoulliExpNeg } from './bernoulli.ts';
import { sampleDiscreteLaplace } from './discrete-laplace.ts';
import type { RandomSource } from './random.ts';
import { type Rational, isqrt, rational, toNumber } from './rational.ts';

/** One draw from N_Z(0, σ²), σ² = num/den > 0. */
export function sampleDiscreteGaussian(sigma2: Rational, rng: RandomSource): bigint {
  const a = sigma2.num;
  const b = sigma2.den;
  if (a <= 0n || b <= 0n) throw new RangeError('sampleDiscreteGaussian: σ² must be > 0');
  const t = isqrt(a / b) + 1n; // ⌊σ⌋ + 1, since ⌊√x⌋ = ⌊√⌊x⌋⌋
  const proposal = rational(t, 1n);
  const bt = b * t;
  const den = 2n * a * bt * t;
  for (;;) {
    const y = sampleDiscreteLaplace(proposal, rng);
    const diff = (y < 0n ? -y : y) * bt - a;
    if (bernoulliExpNeg(rng, { num: diff * diff, den })) return y;
  }
}

const sigmaOf = (sigma2: Rational | number): number => Math.sqrt(typeof sigma2 === 'number' ? sigma2 : toNumber(sigma2));

/**
 * The normaliser Σ_x exp(−x²/(2σ²)). For σ ≥ 1 by Poisson summation,
 * σ√(2π)·(1 + 2 Σ_{k≥1} exp(−2π²σ²k²)), which converges in a few terms; below, by direct summation.
 */
export function discreteGaussianNormalizer(sigma: number): number {
  if (sigma >= 1) {
    let s = 1;
    for (let k = 1; k <= 4; k++) s += 2 * Math.exp(-2 * Math.PI * Math.PI * sigma * sigma * k * k);
    return sigma * Math.sqrt(2 * Math.PI) * s;
  }
  let z = 1;
  for (let x = 1; x <= 64; x++) z += 2 * Math.exp(-(x * x) / (2 * sigma * sigma));
  return z;
}

/** P[X = x] for X ~ N_Z(0, σ²). */
export function discreteGaussianPmf(x: number, sigma2: Rational | number): number {
  const sigma = sigmaOf(sigma2);
  return Math.exp(-(x * x) / (2 * sigma * sigma)) / discreteGaussianNormalizer(sigma);
}

/** Var[X] for X ~ N_Z(0, σ²): summed for small σ; σ² otherwise (the gap is below exp(−2π²σ²)·σ⁴·40). */
export function discreteGaussianVariance(sigma2: Rational | number): number {
  const sigma = sigmaOf(sigma2);
  if (sigma >= 10) return sigma * sigma;
  const z = discreteGaussianNormalizer(sigma);
  let v = 0;
  const limit = Math.ceil(40 * sigma) + 2;
  for (let x = 1; x <= limit; x++) v += 2 * x * x * Math.exp(-(x * x) / (2 * sigma * sigma));
  return v / z;
}
