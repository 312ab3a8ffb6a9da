/**
 * Conversions between zero-concentrated DP (ρ-zCDP) and approximate DP (ε, δ).
 *
 * A Gaussian release is ρ-zCDP (ρ adds up under composition); the API reports (ε, δ). We use the
 * tightest conversion known for zCDP in general, Canonne, Kamath and Steinke 2020 (arXiv:2004.00010,
 * Section 2.3, Proposition 12 / Corollary 13): ρ-zCDP implies (ε, δ)-DP for every α > 1 with
 *
 *     δ = exp((α − 1)(αρ − ε)) / (α − 1) · (1 − 1/α)^α,
 *
 * equivalently ε(α) = αρ + (α·ln(1 − 1/α) − ln(α − 1) + ln(1/δ)) / (α − 1).
 * Any α gives a valid ε; we take the best one. Eliminating ε between "δ(α, ε) = δ" and
 * "∂δ/∂α = 0" (i.e. (2α − 1)ρ − ε + ln(1 − 1/α) = 0) gives one equation in α,
 *
 *     (α − 1)²·ρ + ln α = ln(1/δ),
 *
 * whose left side increases strictly on α > 1, so bisection finds the unique optimum; the ε we
 * return is then evaluated from the valid ε(α) formula at the α found (and never worse than the
 * Bun–Steinke 2016 bound ρ + 2√(ρ·ln(1/δ)), Prop. 1.3, which we also compute). So the result is
 * valid whatever the rounding of the search; a relative margin of 1e-12 covers float error.
 */
import { DpParameterError, checkEpsilon, checkPositiveDelta, checkPositiveFinite, checkRho } from './checks.ts';

const SAFETY = 1 + 1e-12;

/** Bun & Steinke 2016, Prop. 1.3: ρ-zCDP ⇒ (ρ + 2√(ρ·ln(1/δ)), δ)-DP. */
export function zcdpToEpsilonBasic(rho: number, delta: number): number {
  checkRho(rho);
  checkPositiveDelta(delta);
  return rho + 2 * Math.sqrt(rho * Math.log(1 / delta));
}

/** ε(α) of CKS 2020 Prop. 12 for ρ-zCDP at order α > 1 and a given δ. */
function epsilonAtOrder(rho: number, delta: number, alpha: number): number {
  return alpha * rho + (alpha * Math.log1p(-1 / alpha) - Math.log(alpha - 1) - Math.log(delta)) / (alpha - 1);
}

/**
 * The smallest ε such that ρ-zCDP implies (ε, δ)-DP by CKS 2020 Cor. 13 (never above the
 * Bun–Steinke bound). Requires ρ > 0 and 0 < δ < 1.
 */
export function zcdpToEpsilon(rho: number, delta: number): number {
  checkRho(rho);
  checkPositiveDelta(delta);
  const basic = rho + 2 * Math.sqrt(rho * Math.log(1 / delta));
  const target = Math.log(1 / delta);
  // Bracket the root of (α − 1)²ρ + ln α = ln(1/δ): at α = 1 the left side is 0 < target, and at
  // α = 1 + √(target/ρ) it is ≥ target.
  let lo = 1;
  let hi = 1 + Math.sqrt(target / rho);
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if ((mid - 1) * (mid - 1) * rho + Math.log(mid) < target) lo = mid;
    else hi = mid;
  }
  let best = basic;
  for (const alpha of [lo, hi, (lo + hi) / 2]) {
    if (alpha > 1) {
      const e = epsilonAtOrder(rho, delta, alpha);
      if (Number.isFinite(e) && e < best) best = e;
    }
  }
  return Math.max(0, best * SAFETY);
}

/**
 * The smallest δ such that ρ-zCDP implies (ε, δ)-DP (CKS 2020 Cor. 13): the optimal α solves
 * (2α − 1)ρ − ε + ln(1 − 1/α) = 0, whose left side increases in α.
 */
export function zcdpDelta(rho: number, epsilon: number): number {
  checkRho(rho);
  if (!Number.isFinite(epsilon) || epsilon < 0) checkEpsilon(epsilon);
  let lo = 1;
  let hi = Math.max(2, (epsilon + 1) / (2 * rho) + 2);
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if ((2 * mid - 1) * rho - epsilon + Math.log1p(-1 / mid) < 0) lo = mid;
    else hi = mid;
  }
  const alpha = hi;
  const logDelta = (alpha - 1) * (alpha * rho - epsilon) + alpha * Math.log1p(-1 / alpha) - Math.log(alpha - 1);
  return Math.min(1, Math.exp(logDelta) * SAFETY);
}

/**
 * The largest ρ whose conversion at δ stays ≤ ε: the inverse of `zcdpToEpsilon`, by bisection
 * on ρ (the conversion increases with ρ), returning the lower end so the result is conservative.
 */
export function epsilonToZcdp(epsilon: number, delta: number): number {
  checkEpsilon(epsilon);
  checkPositiveDelta(delta);
  let lo = 0;
  let hi = epsilon;
  while (zcdpToEpsilon(hi, delta) <= epsilon) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (zcdpToEpsilon(mid, delta) <= epsilon) lo = mid;
    else hi = mid;
  }
  if (lo === 0) throw new DpParameterError('epsilon', 'too small: no positive ρ converts to it at this δ');
  return lo;
}

/** Bun & Steinke's inverse, for comparison: ρ = (√(ln(1/δ) + ε) − √(ln(1/δ)))². */
export function epsilonToZcdpBasic(epsilon: number, delta: number): number {
  checkEpsilon(epsilon);
  checkPositiveDelta(delta);
  const l = Math.log(1 / delta);
  return (Math.sqrt(l + epsilon) - Math.sqrt(l)) ** 2;
}

/**
 * The classical Gaussian mechanism's σ = Δ·√(2·ln(1.25/δ))/ε (Dwork & Roth 2014, Thm A.1; valid
 * for ε < 1). Reference only: dpq calibrates Gaussian noise through zCDP, which is tighter.
 */
export function classicalGaussianSigma(sensitivity: number, epsilon: number, delta: number): number {
  checkPositiveFinite(sensitivity, 'sensitivity');
  checkEpsilon(epsilon);
  checkPositiveDelta(delta);
  return (sensitivity * Math.sqrt(2 * Math.log(1.25 / delta))) / epsilon;
}
