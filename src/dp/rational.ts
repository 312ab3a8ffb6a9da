/**
 * Exact non-negative rationals over BigInt: the parameters of the exact samplers.
 *
 * The samplers of Canonne, Kamath and Steinke (2020) take their parameters (a Laplace scale, a
 * Gaussian variance, a Bernoulli exponent) as ratios of integers so that every decision is an
 * integer comparison. Two conventions make the whole engine exact and consistent:
 *
 * - A JS number given as a privacy parameter means the decimal it prints as (`0.1` is 1/10, not
 *   the binary double 0.1000000000000000055…). The ledger charges that decimal and the noise is
 *   calibrated to that same decimal, so "what is charged" and "what the noise gives" coincide.
 * - Derived parameters (scale Δ/ε, variance Δ²/(2ρ)) are rounded UP to 40 significant bits:
 *   rounding a noise scale up only adds noise, so privacy is never overstated (at most a 2^-40
 *   relative increase in noise), and bounded sizes keep the samplers on a fast integer path.
 */

export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

export const ONE: Rational = Object.freeze({ num: 1n, den: 1n });

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

export function gcd(a: bigint, b: bigint): bigint {
  a = abs(a);
  b = abs(b);
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** A reduced rational num/den with den > 0. */
export function rational(num: bigint, den: bigint = 1n): Rational {
  if (den === 0n) throw new RangeError('rational: zero denominator');
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const g = gcd(num, den);
  return g > 1n ? Object.freeze({ num: num / g, den: den / g }) : Object.freeze({ num, den });
}

export const mul = (a: Rational, b: Rational): Rational => rational(a.num * b.num, a.den * b.den);
export const div = (a: Rational, b: Rational): Rational => rational(a.num * b.den, a.den * b.num);
export const add = (a: Rational, b: Rational): Rational => rational(a.num * b.den + b.num * a.den, a.den * b.den);
export const sub = (a: Rational, b: Rational): Rational => rational(a.num * b.den - b.num * a.den, a.den * b.den);
export const compare = (a: Rational, b: Rational): number => {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
};

/** floor(a/b) for b > 0 (BigInt division truncates toward zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** ceil(a/b) for b > 0. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  return -floorDiv(-a, b);
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/;

/**
 * The exact rational of the shortest decimal that prints as `x` (JavaScript's round-trip
 * representation), e.g. 0.1 → 1/10, 1e-7 → 1/10000000, 2.5 → 5/2.
 */
export function rationalFromNumber(x: number): Rational {
  if (!Number.isFinite(x)) throw new RangeError(`rationalFromNumber: not finite: ${x}`);
  const m = DECIMAL.exec(String(x));
  if (!m) throw new RangeError(`rationalFromNumber: cannot parse ${x}`);
  const [, sign, int, frac = '', exp = '0'] = m;
  let num = BigInt(`${int}${frac}`);
  if (sign === '-') num = -num;
  const e = Number(exp) - frac.length;
  return e >= 0 ? rational(num * 10n ** BigInt(e), 1n) : rational(num, 10n ** BigInt(-e));
}

/** Nearest double to a rational (through a 60-significant-bit quotient; good to 1 ulp). */
export function toNumber(r: Rational): number {
  if (r.num === 0n) return 0;
  const neg = r.num < 0n;
  const n = abs(r.num);
  // Scale so the integer quotient has ~64 bits, then divide in floating point.
  const shift = bitLength(r.den) - bitLength(n) + 64;
  const q = shift >= 0 ? (n << BigInt(shift)) / r.den : n / (r.den << BigInt(-shift));
  const v = Number(q) * 2 ** -shift;
  return neg ? -v : v;
}

export function bitLength(n: bigint): number {
  if (n < 0n) n = -n;
  if (n === 0n) return 0;
  // toString(16) is linear in the size and avoids a bit-by-bit loop.
  const hex = n.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0]!, 16)));
}

/** Default precision of derived sampler parameters, in significant bits. */
export const PARAMETER_BITS = 40;

/**
 * r rounded UP to `bits` significant bits (a dyadic rational m·2^e with m < 2^bits), unless r's
 * numerator and denominator already fit in `bits` bits, in which case r is returned exactly.
 * Used for noise scales and variances, where rounding up is the conservative direction.
 */
export function roundUp(r: Rational, bits: number = PARAMETER_BITS): Rational {
  if (r.num <= 0n) return r;
  const limit = 1n << BigInt(bits);
  if (r.num < limit && r.den < limit) return r;
  // Choose e so that ceil(r·2^e) has exactly `bits` bits: 2^(bits-1) ≤ r·2^e < 2^bits.
  let e = bits - (bitLength(r.num) - bitLength(r.den)) - 1;
  let m = scaledCeil(r, e);
  while (m >= limit) {
    e -= 1;
    m = scaledCeil(r, e);
  }
  return e >= 0 ? rational(m, 1n << BigInt(e)) : rational(m << BigInt(-e), 1n);
}

/**
 * A positive real noise parameter (a scale or variance computed in floating point) as a rational
 * for the samplers: its decimal value, rounded UP to `bits` significant bits. Up, because a
 * larger scale means more noise, so the privacy guarantee computed for `x` still holds.
 */
export function scaleToRational(x: number, bits: number = PARAMETER_BITS): Rational {
  if (!Number.isFinite(x) || x <= 0) throw new RangeError(`scaleToRational: must be a finite number > 0, got ${x}`);
  return roundUp(rationalFromNumber(x), bits);
}

/** ceil(r·2^e) for an integer e of either sign. */
function scaledCeil(r: Rational, e: number): bigint {
  return e >= 0 ? ceilDiv(r.num << BigInt(e), r.den) : ceilDiv(r.num, r.den << BigInt(-e));
}

/** Integer square root: floor(√n) for n ≥ 0 (Newton's method from above, exact for any size). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('isqrt of a negative number');
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) + 1) >> 1); // ≥ √n
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}
