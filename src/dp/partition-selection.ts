/**
 * DP partition selection: which group keys without a public domain may appear in the answer.
 *
 * Per group, n = the number of distinct units in it (each unit counts once per group and is in at
 * most k = min(maxGroupsPerUnit, maxRowsPerUnit) groups). The group is released iff
 * n + Z ≥ τ, Z ~ Lap_Z(k/ε_sel) (discrete Laplace), with τ the smallest integer such that a group
 * holding a single unit passes with probability at most δ_adj = 1 − (1 − δ)^(1/k):
 *
 *     P[1 + Z ≥ τ] = q^(τ−1)/(1 + q) ≤ δ_adj,  q = exp(−1/scale),
 *     τ = 1 + ⌈scale·ln(1/((1 + q)·δ_adj))⌉  (then checked, and raised if float error demands).
 *
 * Why (ε_sel, δ)-DP, whatever the number of keys: between neighbours D and D + u, the groups present
 * in both have count vectors at L1 distance ≤ k, so their noisy counts (and any decision on them)
 * are ε_sel-DP; the ≤ k groups that exist only because of u have count 1 and each passes with
 * probability ≤ δ_adj, so some pass with probability ≤ 1 − (1 − δ_adj)^k = δ. This is the
 * "Laplace thresholding" of Korolova et al. 2009 and of Google's differential-privacy library
 * (`LaplacePartitionSelection`: τ = 1 − (k/ε)·ln(2·δ_adj) for continuous Laplace, with the same
 * adjusted δ), here with the discrete Laplace's exact tail; see also Desfontaines, Voss, Gipson
 * and Mandayam 2022, "Differentially private partition selection" (PoPETs).
 * The noisy counts are used only for the decision and are not released.
 */
import { type LaplaceNoise, laplaceNoise } from './calibrate.ts';
import { checkEpsilon, checkNonNegativeInteger, checkPositiveDelta, checkPositiveInteger } from './checks.ts';
import { sampleDiscreteLaplace } from './discrete-laplace.ts';
import type { RandomSource } from './random.ts';
import { toNumber } from './rational.ts';
import { integerSensitivity } from './sensitivity.ts';

export interface PartitionSelectionParams {
  /** ε share of partition selection (`splitBudget(...).partitionSelection.epsilon`). */
  readonly epsilon: number;
  /** δ of partition selection (> 0). */
  readonly delta: number;
  /** k: groups one unit may contribute to (already min(maxGroupsPerUnit, maxRowsPerUnit)). */
  readonly maxGroupsPerUnit: number;
}

export interface PartitionThreshold {
  readonly params: PartitionSelectionParams;
  /** Release iff distinct-unit count + noise ≥ threshold. */
  readonly threshold: bigint;
  readonly noise: LaplaceNoise;
}

/** δ_adj = 1 − (1 − δ)^(1/k), computed without cancellation and nudged down for float error. */
function adjustedDelta(delta: number, k: number): number {
  return -Math.expm1(Math.log1p(-delta) / k) * (1 - 1e-9);
}

/** The threshold τ (and the noise) for the given parameters; compute once per query. */
export function partitionThreshold(params: PartitionSelectionParams): PartitionThreshold {
  checkEpsilon(params.epsilon);
  checkPositiveDelta(params.delta);
  const k = checkPositiveInteger(params.maxGroupsPerUnit, 'maxGroupsPerUnit');
  const noise = laplaceNoise(integerSensitivity(BigInt(k)), params.epsilon);
  const scale = toNumber(noise.scale);
  const q = Math.exp(-1 / scale);
  const target = adjustedDelta(params.delta, k);
  const passSingle = (tau: number): number => Math.exp(-(tau - 1) / scale) / (1 + q); // P[1 + Z ≥ τ]
  let tau = 1 + Math.max(0, Math.ceil(scale * Math.log(1 / ((1 + q) * target))));
  while (passSingle(tau) > target) tau++;
  return Object.freeze({ params: Object.freeze({ ...params }), threshold: BigInt(tau), noise });
}

/**
 * One selection decision for a group with `distinctUnits` units. One draw per group per release;
 * pass a threshold from `partitionThreshold` (or the parameters, to compute it here).
 */
export function selectPartition(
  distinctUnits: bigint | number,
  params: PartitionThreshold | PartitionSelectionParams,
  rng: RandomSource,
): boolean {
  const n = checkNonNegativeInteger(distinctUnits, 'distinctUnits');
  const t = 'threshold' in params ? params : partitionThreshold(params);
  return n + sampleDiscreteLaplace(t.noise.scale, rng) >= t.threshold;
}
