/**
 * Statistical helpers for the DP engine's tests: χ² goodness of fit, exact binomial tails and
 * Clopper–Pearson bounds. Special functions follow Numerical Recipes (Lanczos log-gamma, series and
 * continued fractions for the incomplete gamma and beta functions); `stats.test.ts` pins them to
 * reference values so a broken helper cannot silently pass a sampler.
 */

const LANCZOS = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];

export function lnGamma(x: number): number {
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const c of LANCZOS) ser += c / ++y;
  return -tmp + Math.log((2.5066282746310005 * ser) / x);
}

const EPS = 1e-15;
const FPMIN = 1e-300;

/** Regularized upper incomplete gamma Q(a, x). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const gln = lnGamma(a);
  if (x < a + 1) {
    let ap = a;
    let del = 1 / a;
    let sum = del;
    for (let n = 0; n < 100_000; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * EPS) break;
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - gln);
  }
  let b = x + 1 - a;
  let c = 1 / FPMIN;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = b + an / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - gln) * h;
}

/** P[χ²_df ≥ x]. */
export const chiSquareSurvival = (x: number, df: number): number => gammaQ(df / 2, x / 2);

function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < FPMIN) d = FPMIN;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < 1_000_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b). */
export function betaI(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const bt = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  return x < (a + 1) / (a + b + 2) ? (bt * betaContinuedFraction(a, b, x)) / a : 1 - (bt * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P[X ≥ k] for X ~ Binomial(n, p). */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  return betaI(k, n - k + 1, p);
}

/** P[X ≤ k] for X ~ Binomial(n, p). */
export const binomialLowerTail = (k: number, n: number, p: number): number => 1 - binomialUpperTail(k + 1, n, p);

/** Two-sided exact binomial p-value (twice the smaller tail, capped at 1). */
export function binomialTestP(k: number, n: number, p: number): number {
  return Math.min(1, 2 * Math.min(binomialUpperTail(k, n, p), binomialLowerTail(k, n, p)));
}

/** Clopper–Pearson one-sided bounds at level α each: P[true p < lower] ≤ α, P[true p > upper] ≤ α. */
export function clopperPearson(k: number, n: number, alpha: number): { lower: number; upper: number } {
  const solve = (f: (p: number) => number, target: number): number => {
    // f increasing in p
    let lo = 0;
    let hi = 1;
    for (let i = 0; i < 200; i++) {
      const mid = (lo + hi) / 2;
      if (f(mid) < target) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  };
  // lower: the p with P[X ≥ k | p] = α; upper: the p with P[X ≤ k | p] = α.
  const lower = k === 0 ? 0 : solve((p) => binomialUpperTail(k, n, p), alpha);
  const upper = k === n ? 1 : solve((p) => 1 - binomialLowerTail(k, n, p), 1 - alpha);
  return { lower, upper };
}

/** Counts of each integer value among the samples. */
export function histogram(samples: Iterable<bigint | number>): Map<number, number> {
  const h = new Map<number, number>();
  for (const s of samples) {
    const x = Number(s);
    h.set(x, (h.get(x) ?? 0) + 1);
  }
  return h;
}

export interface ChiSquareResult {
  readonly statistic: number;
  readonly df: number;
  readonly pValue: number;
  readonly bins: number;
}

/**
 * χ² goodness of fit of integer samples to a pmf on the integers, with bins for every value in
 * [lo, hi] whose expected count is ≥ `minExpected`, and the two tails (−∞, lo − 1], [hi + 1, ∞)
 * merged into the end bins so every bin expects ≥ minExpected.
 */
export function chiSquareIntegers(counts: Map<number, number>, n: number, pmf: (x: number) => number, center = 0, minExpected = 10): ChiSquareResult {
  let lo = center;
  let hi = center;
  while (n * pmf(lo - 1) >= minExpected) lo--;
  while (n * pmf(hi + 1) >= minExpected) hi++;
  // tail masses, summed until negligible
  const tail = (from: number, step: number): number => {
    let s = 0;
    for (let x = from, i = 0; i < 1_000_000; x += step, i++) {
      const p = pmf(x);
      s += p;
      if (p < 1e-18 * s || p === 0) break;
    }
    return s;
  };
  const lowMass = tail(lo - 1, -1) + pmf(lo);
  const highMass = tail(hi + 1, 1) + pmf(hi);
  let lowObs = 0;
  let highObs = 0;
  const inner = new Map<number, number>();
  for (const [x, c] of counts) {
    if (x <= lo) lowObs += c;
    else if (x >= hi) highObs += c;
    else inner.set(x, c);
  }
  let stat = 0;
  let bins = 0;
  const add = (obs: number, exp: number): void => {
    stat += ((obs - exp) * (obs - exp)) / exp;
    bins++;
  };
  add(lowObs, n * lowMass);
  add(highObs, n * highMass);
  for (let x = lo + 1; x < hi; x++) add(inner.get(x) ?? 0, n * pmf(x));
  const df = bins - 1;
  return { statistic: stat, df, pValue: chiSquareSurvival(stat, df), bins };
}

/** χ² test of category counts against probabilities (categories with tiny expectation merged into one). */
export function chiSquareCategories(observed: readonly number[], probabilities: readonly number[], n: number, minExpected = 10): ChiSquareResult {
  let stat = 0;
  let bins = 0;
  let restObs = 0;
  let restExp = 0;
  observed.forEach((o, i) => {
    const e = n * probabilities[i]!;
    if (e >= minExpected) {
      stat += ((o - e) * (o - e)) / e;
      bins++;
    } else {
      restObs += o;
      restExp += e;
    }
  });
  if (restExp > 0) {
    stat += ((restObs - restExp) * (restObs - restExp)) / Math.max(restExp, 1e-300);
    bins++;
  }
  const df = bins - 1;
  return { statistic: stat, df, pValue: chiSquareSurvival(stat, df), bins };
}
