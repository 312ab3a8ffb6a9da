/**
 * The sensitivity of every noisy measurement dpq releases, derived here and nowhere else.
 *
 * Neighbouring databases differ by all rows of one person (privacy.md), so a sensitivity is the
 * most one person can change a measurement's whole vector (every group, every bin) by. After
 * contribution bounding (compile.ts) a person has at most `m` rows (maxRowsPerUnit) in at most `k`
 * group keys (maxGroupsPerUnit; `k = 1` without GROUP BY, and never more than `m` since each key
 * needs a row). Values are clamped and rounded to integers on the column's granularity grid, so
 * every measurement and every sensitivity is an exact integer in grid units.
 *
 * Writing c_g for the person's contribution to group g:
 * - row counts (COUNT(*), COUNT(col), the counts inside AVG/VARIANCE, histogram bins): c_g ≥ 0 and
 *   Σ_g c_g ≤ m, so L1 ≤ m, L2 = √(Σ c_g²) ≤ Σ c_g ≤ m, L∞ ≤ m; all three are reached when the m
 *   rows fall in one group (or bin).
 * - distinct units per group (COUNT(DISTINCT unit) and the partition-selection count): c_g ∈ {0, 1}
 *   for at most k groups, so L1 = k, L2 = √k, L∞ = 1.
 * - sums of values x on the grid [lo, hi], centred at a grid point c (c = 0 for SUM; the midpoint for
 *   AVG and VARIANCE, which are shift-invariant — Google's BoundedMean does the same): every row adds
 *   x − c with |x − c| ≤ M = max(hi − c, c − lo), so L1 = L2 = L∞ = m·M (one group takes all).
 * - sums of squares (VARIANCE/STDDEV) of x − c: every row adds (x − c)² ∈ [0, M²], so m·M².
 *
 * This is the per-user contribution bounding of Wilson, Zhang, Lam, Desfontaines, Simmons-Marengo
 * and Gipson, "Differentially Private SQL with Bounded User Contribution" (PoPETs 2020, §3–4):
 * sensitivity = (contributions per user) × (bound per contribution); see also Amin, Kulesza, Muñoz
 * Medina and Vassilvitskii, "Bounding User Contributions: A Bias-Variance Trade-off in Differential
 * Privacy" (ICML 2019), and for the L0/L∞ view of partition selection Desfontaines, Voss, Gipson and
 * Mandayam, "Differentially private partition selection" (PoPETs 2022).
 *
 * L2 is given squared so it stays exact (ρ-zCDP of the Gaussian mechanism is Δ2² / 2σ²).
 */

export interface PlanSensitivity {
  readonly l1: bigint;
  /** (L2 sensitivity)², exact. */
  readonly l2Squared: bigint;
  readonly linf: bigint;
}

/**
 * Sensitivities are at least 1: a measurement that cannot change (bounds of a single grid point)
 * is still released through the same mechanism, which needs a positive scale.
 */
const atLeastOne = (x: bigint): bigint => (x < 1n ? 1n : x);
const sens = (l1: bigint, l2Squared: bigint, linf: bigint): PlanSensitivity =>
  Object.freeze({ l1: atLeastOne(l1), l2Squared: atLeastOne(l2Squared), linf: atLeastOne(linf) });

/** A count of rows (or of non-null values, or of rows per histogram bin) under an m-row bound. */
export function countSensitivity(m: bigint): PlanSensitivity {
  return sens(m, m * m, m);
}

/** A count of distinct units per group, each unit in at most k groups. */
export function unitsSensitivity(k: bigint): PlanSensitivity {
  return sens(k, k, 1n);
}

/** A sum of values whose distance to the centre is at most `maxDeviation` per row. */
export function sumSensitivity(m: bigint, maxDeviation: bigint): PlanSensitivity {
  const s = m * maxDeviation;
  return sens(s, s * s, s);
}

/** A sum of squared deviations, each at most `maxDeviation`². */
export function sumOfSquaresSensitivity(m: bigint, maxDeviation: bigint): PlanSensitivity {
  const s = m * maxDeviation * maxDeviation;
  return sens(s, s * s, s);
}

/** The L2 sensitivity as a number (for display and float calibration only). */
export function l2(s: PlanSensitivity): number {
  return Math.sqrt(Number(s.l2Squared));
}
