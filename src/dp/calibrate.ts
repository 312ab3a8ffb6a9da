/**
 * Calibration: from a sensitivity and a privacy share to the exact noise distribution.
 *
 * - Laplace (pure ε-DP): discrete Laplace of scale t = Δ1/ε (Lap_Z(t) has pmf ratio ≤ exp(Δ1/t)
 *   between outputs Δ1 apart; CKS 2020 §2.2 / Ghosh, Roughgarden & Sundararajan 2009).
 * - Gaussian (ρ-zCDP): discrete Gaussian of variance parameter σ² = Δ2²/(2ρ)
 *   (CKS 2020, Theorem 4: N_Z(0, σ²) on a query of L2 sensitivity Δ2 is Δ2²/(2σ²)-zCDP).
 *
 * ε and ρ are read as the decimals they print as, the result is computed exactly as a rational,
 * then rounded UP to 40 significant bits (rational.ts): the noise is never smaller than the
 * formula asks, so the guarantee holds for exactly the ε or ρ that is charged.
 */
import { checkEpsilon, checkPositiveFinite, checkRho } from './checks.ts';
import { type Rational, div, mul, rational, rationalFromNumber, roundUp, toNumber } from './rational.ts';
import type { Sensitivity } from './sensitivity.ts';

export interface LaplaceNoise {
  readonly mechanism: 'laplace';
  /** Discrete Laplace scale in grid units (rounded up). */
  readonly scale: Rational;
  readonly epsilon: number;
  readonly sensitivity: Sensitivity;
}

export interface GaussianNoise {
  readonly mechanism: 'gaussian';
  /** Discrete Gaussian variance parameter σ² in grid units² (rounded up). */
  readonly sigma2: Rational;
  readonly rho: number;
  readonly sensitivity: Sensitivity;
}

export type NoiseSpec = LaplaceNoise | GaussianNoise;

/** A measurement's share of the budget: ε for Laplace, ρ for Gaussian. */
export type NoiseShare = { readonly mechanism: 'laplace'; readonly epsilon: number } | { readonly mechanism: 'gaussian'; readonly rho: number };

/** Discrete Laplace noise for ε-DP on a query with this sensitivity (uses `l1`). */
export function laplaceNoise(sensitivity: Sensitivity, epsilon: number): LaplaceNoise {
  checkEpsilon(epsilon);
  const scale = roundUp(div(rational(sensitivity.l1), rationalFromNumber(epsilon)));
  return Object.freeze({ mechanism: 'laplace', scale, epsilon, sensitivity });
}

/** Discrete Gaussian noise for ρ-zCDP on a query with this sensitivity (uses `l2Squared`). */
export function gaussianNoise(sensitivity: Sensitivity, rho: number): GaussianNoise {
  checkRho(rho);
  const sigma2 = roundUp(div(rational(sensitivity.l2Squared), mul(rational(2n), rationalFromNumber(rho))));
  return Object.freeze({ mechanism: 'gaussian', sigma2, rho, sensitivity });
}

/** Noise for a measurement from its share (the shape `splitBudget` returns). */
export function calibrateNoise(sensitivity: Sensitivity, share: NoiseShare): NoiseSpec {
  return share.mechanism === 'laplace' ? laplaceNoise(sensitivity, share.epsilon) : gaussianNoise(sensitivity, share.rho);
}

/** The noise scale parameter as a number: Laplace t, or Gaussian σ. */
export function noiseScale(noise: NoiseSpec): number {
  return noise.mechanism === 'laplace' ? toNumber(noise.scale) : Math.sqrt(toNumber(noise.sigma2));
}

// Real-valued calibration formulas, for estimates and documentation.

/** Laplace scale t = Δ/ε. */
export const laplaceScaleFor = (sensitivity: number, epsilon: number): number =>
  checkPositiveFinite(sensitivity, 'sensitivity') / checkEpsilon(epsilon);

/** ε = Δ/t for a Laplace scale t. */
export const epsilonForLaplaceScale = (sensitivity: number, scale: number): number =>
  checkPositiveFinite(sensitivity, 'sensitivity') / checkPositiveFinite(scale, 'scale');

/** Gaussian σ = Δ2/√(2ρ). */
export const gaussianSigmaFor = (l2Sensitivity: number, rho: number): number =>
  checkPositiveFinite(l2Sensitivity, 'sensitivity') / Math.sqrt(2 * checkRho(rho));

/** ρ = Δ2²/(2σ²) for a Gaussian σ. */
export const rhoForGaussianSigma = (l2Sensitivity: number, sigma: number): number =>
  checkPositiveFinite(l2Sensitivity, 'sensitivity') ** 2 / (2 * checkPositiveFinite(sigma, 'sigma') ** 2);
