/**
 * Bernoulli(exp(−γ)) for rational γ ≥ 0 at a cost that does not depend on γ: the test U < exp(−γ)
 * for one uniform U, decided on U's first 32 bits against floating-point thresholds that bracket
 * exp(−γ), and only when U falls inside that bracket (probability below 2^-31) refined exactly:
 * more bits of U against rigorous fixed-point bounds of exp(−γ) (interval arithmetic in BigInt),
 * at doubling precision until they decide. So the answer is exactly Bernoulli(exp(−γ)) — the
 * refinement makes the float step a shortcut, never an approximation — while the common path
 * costs the same random word and two comparisons whatever γ is.
 *
 * The bracket assumes only that Math.exp is accurate to far better than 2^-40 relative (every
 * engine is within a few ulps, 2^-50) plus the rounding of γ to a double; it is widened by
 * 2^-40 + γ·2^-48 relative on each side.
 */
import type { RandomSource } from './random.ts';
import type { Rational } from './rational.ts';

const TWO_32 = 2 ** 32;

/** A prepared coin: the thresholds of its fast path and the exact γ for refinement. */
export interface ExpCoin {
  readonly gamma: Rational;
  /** w + 1 ≤ low·2^32 for U's first word w ⇒ U < exp(−γ): accept. */
  readonly low: number;
  /** w ≥ high·2^32 ⇒ U ≥ exp(−γ): reject. */
  readonly high: number;
}

export function expCoin(gamma: Rational): ExpCoin {
  if (gamma.num < 0n || gamma.den <= 0n) throw new RangeError('expCoin: γ must be ≥ 0 with a positive denominator');
  // The same work for every γ (no shortcut for γ = 0): two conversions, one exp. The quotient of
  // the rounded parts is within 3·2^-53 of γ relative, inside the margin below.
  const g = Number(gamma.num) / Number(gamma.den);
  if (!Number.isFinite(g)) return { gamma, low: 0, high: TWO_32 }; // always refine: exact, never wrong
  const w = Math.exp(-g);
  const margin = 2 ** -40 + g * 2 ** -48;
  // Scaled to the first word of U (exact: a power-of-two scale).
  return { gamma, low: Math.max(0, w * (1 - margin)) * TWO_32, high: Math.min(1, w * (1 + margin) + 2 ** -1000) * TWO_32 };
}

/** One draw of the coin: true with probability exactly exp(−γ). */
export function flipExpCoin(rng: RandomSource, coin: ExpCoin): boolean {
  return decideExpCoin(rng, coin, rng.nextUint32());
}

/** The fast path alone: the answer for U's first word `w`, or undefined when it cannot tell. */
export function fastExpCoin(coin: ExpCoin, w: number): boolean | undefined {
  const accept = w + 1 <= coin.low;
  const reject = w >= coin.high;
  return accept ? true : reject ? false : undefined;
}

/** The coin's answer for U's first word `w` (a uniform 32-bit integer), refining rarely. */
export function decideExpCoin(rng: RandomSource, coin: ExpCoin, w: number): boolean {
  return fastExpCoin(coin, w) ?? refine(rng, coin.gamma, BigInt(w));
}

/** Decide U < exp(−γ) for U ∈ [u/2^32, (u+1)/2^32), drawing further bits of U as needed. */
export function refine(rng: RandomSource, gamma: Rational, u32: bigint): boolean {
  let u = u32;
  let bits = 32;
  for (let p = 64; ; p *= 2) {
    while (bits < p) {
      u = (u << 32n) | BigInt(rng.nextUint32());
      bits += 32;
    }
    const [lo, hi] = expNegBounds(gamma, bits);
    if (u + 1n <= lo) return true;
    if (u >= hi) return false;
  }
}

const ceilShift = (x: bigint, s: bigint): bigint => -(-x >> s);

/**
 * lo ≤ exp(−γ)·2^p ≤ hi, as integers, with hi − lo a few units: exp(−f) (0 ≤ f < 1) by its
 * alternating Taylor series, whose partial sums bracket it, and exp(−⌊γ⌋) by squaring the same
 * bracket of exp(−1); every product rounds down for lo and up for hi.
 */
export function expNegBounds(gamma: Rational, p: number): [bigint, bigint] {
  const whole = gamma.num / gamma.den;
  // exp(−γ)·2^p < 2^(p − 1.44·⌊γ⌋) < 1 when ⌊γ⌋ > p.
  if (whole > BigInt(p)) return [0n, 1n];
  const q = BigInt(p + 40);
  const one = 1n << q;
  const [fl, fh] = seriesExpNeg({ num: gamma.num - whole * gamma.den, den: gamma.den }, q);
  const [el, eh] = seriesExpNeg({ num: 1n, den: 1n }, q);
  let pl = one;
  let ph = one;
  let bl = el;
  let bh = eh;
  for (let n = whole; n > 0n; n >>= 1n) {
    if ((n & 1n) === 1n) {
      pl = (pl * bl) >> q;
      ph = ceilShift(ph * bh, q);
    }
    bl = (bl * bl) >> q;
    bh = ceilShift(bh * bh, q);
  }
  const shift = q - BigInt(p);
  return [((pl * fl) >> q) >> shift, ceilShift(ceilShift(ph * fh, q), shift)];
}

/** [lo, hi] ∋ exp(−f)·2^q for a rational 0 ≤ f ≤ 1: Taylor terms bounded from below and above. */
function seriesExpNeg(f: Rational, q: bigint): [bigint, bigint] {
  const one = 1n << q;
  let tl = one; // lower and upper bounds of the term f^k / k!
  let th = one;
  let lower = one; // bounds of the partial sum S_k
  let upper = one;
  let upperEven = one;
  for (let k = 1n; ; k++) {
    const d = f.den * k;
    tl = (tl * f.num) / d;
    th = ceilDivPositive(th * f.num, d);
    if ((k & 1n) === 1n) {
      lower -= th;
      upper -= tl;
      // S_k for odd k is below exp(−f); S_{k−1} (even) is above it.
      if (th <= 1n) return [lower > 0n ? lower : 0n, upperEven];
    } else {
      lower += tl;
      upper += th;
      upperEven = upper;
    }
  }
}

const ceilDivPositive = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;
