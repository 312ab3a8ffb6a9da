/**
 * The discrete Laplace distribution Lap_Z(t): P[X = x] ∝ exp(−|x|/t) on the integers.
 *
 * Sampling is Algorithm 2 of Canonne, Kamath and Steinke (2020): for t = num/den it draws a
 * geometric variable of parameter 1 − exp(−1/num) from a uniform remainder U < num (accepted with
 * Bernoulli(exp(−U/num))) plus num times a geometric(1 − exp(−1)) count, divides by den, and
 * attaches a fair sign (rejecting "−0"). Exact: only integer arithmetic and exact Bernoullis.
 *
 * Adding Lap_Z(Δ/ε) to an integer query of L1 sensitivity Δ gives ε-DP: the pmf ratio at any
 * output between neighbours is at most exp(Δ/t) = exp(ε).
 *
 * The closed forms below (q = exp(−1/t)) serve accuracy reports and the tests:
 *   P[X = x] = (1 − q)/(1 + q) · q^|x|,   P[X ≥ m] = q^m/(1 + q) for m ≥ 1,
 *   Var[X] = 2q/(1 − q)².
 */
import { bernoulliExpMinusOne, bernoulliExpNegSmall, bernoulliExpNeg } from './bernoulli.ts';
import type { RandomSource } from './random.ts';
import { type Rational, toNumber } from './rational.ts';

/** Parameters up to 2^41 keep k·num and U + num·V inside 2^53 for all but astronomically rare draws. */
const FAST_LIMIT = 2n ** 41n;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** One draw from Lap_Z(scale), scale = num/den > 0. */
export function sampleDiscreteLaplace(scale: Rational, rng: RandomSource): bigint {
  if (scale.num <= 0n || scale.den <= 0n) throw new RangeError('sampleDiscreteLaplace: scale must be > 0');
  if (scale.num <= FAST_LIMIT && scale.den <= FAST_LIMIT) return sampleSmall(Number(scale.num), Number(scale.den), rng);
  return sampleBig(scale.num, scale.den, rng);
}

function sampleSmall(t: number, s: number, rng: RandomSource): bigint {
  for (;;) {
    const u = t === 1 ? 0 : rng.uniformInt(t);
    if (u !== 0 && !bernoulliExpNegSmall(rng, u, t)) continue;
    let v = 0;
    while (bernoulliExpMinusOne(rng)) v++;
    // X = U + t·V is geometric(1 − exp(−1/t)); Y = ⌊X/s⌋ is geometric(1 − exp(−s/t)).
    const x = u + t * v;
    let y: bigint;
    if (x + s <= MAX_SAFE) {
      let q = s === 1 ? x : Math.floor(x / s);
      while (q * s > x) q -= 1; // correct a float quotient (all products exact below 2^53)
      while ((q + 1) * s <= x) q += 1;
      y = BigInt(q);
    } else {
      y = (BigInt(u) + BigInt(t) * BigInt(v)) / BigInt(s);
    }
    const negative = rng.nextBit() === 1;
    if (negative && y === 0n) continue;
    return negative ? -y : y;
  }
}

function sampleBig(t: bigint, s: bigint, rng: RandomSource): bigint {
  for (;;) {
    const u = rng.uniformBigInt(t);
    if (u !== 0n && !bernoulliExpNeg(rng, { num: u, den: t })) continue;
    let v = 0n;
    while (bernoulliExpMinusOne(rng)) v++;
    const y = (u + t * v) / s;
    const negative = rng.nextBit() === 1;
    if (negative && y === 0n) continue;
    return negative ? -y : y;
  }
}

/** q = exp(−1/t) and 1 − q (computed without cancellation) for a scale t given as a number. */
function decay(scale: number): { q: number; oneMinusQ: number } {
  return { q: Math.exp(-1 / scale), oneMinusQ: -Math.expm1(-1 / scale) };
}

const scaleNumber = (scale: Rational | number): number => (typeof scale === 'number' ? scale : toNumber(scale));

/** P[X = x] for X ~ Lap_Z(scale). */
export function discreteLaplacePmf(x: number, scale: Rational | number): number {
  const { q, oneMinusQ } = decay(scaleNumber(scale));
  return (oneMinusQ / (1 + q)) * q ** Math.abs(x);
}

/** P[X ≥ m] for X ~ Lap_Z(scale) and an integer m ≥ 1 (by symmetry also P[X ≤ −m]). */
export function discreteLaplaceUpperTail(m: number, scale: Rational | number): number {
  if (m <= 0) throw new RangeError('discreteLaplaceUpperTail: m must be ≥ 1');
  const { q } = decay(scaleNumber(scale));
  return Math.exp(-m / scaleNumber(scale)) / (1 + q);
}

/** Var[X] for X ~ Lap_Z(scale): 2q/(1 − q)². */
export function discreteLaplaceVariance(scale: Rational | number): number {
  const { q, oneMinusQ } = decay(scaleNumber(scale));
  return (2 * q) / (oneMinusQ * oneMinusQ);
}
