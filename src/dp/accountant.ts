/**
 * The accountant: immutable privacy events and their composition.
 *
 * Each release is recorded as one or more frozen events `{mechanism, epsilon, delta, rho}` with
 * amounts in integer ledger units (micro-ε, pico-δ, pico-ρ; see units.ts), so sums are exact.
 * An event means:
 * - `laplace`: the release is (ε, δ)-DP (δ > 0 only for partition selection); ρ is 0.
 *   When δ = 0 it is pure ε-DP, hence also ε²/2-zCDP (Bun & Steinke 2016, Prop. 1.4 / 3.3).
 * - `gaussian`: the release is ρ-zCDP, and (ε, δ) is its conversion at the δ it was charged
 *   (conversion.ts), which is what the ledger charges.
 *
 * `compose` reports the tighter of two valid bounds on the same total δ:
 * - basic composition: (Σε, Σδ) (Dwork & Roth 2014, Thm 3.16);
 * - zCDP composition (ρ adds up; Bun & Steinke 2016): the Gaussian events' ρ (optionally with the
 *   pure Laplace events' ε²/2) add up, converted once at the Gaussian events' total δ, plus basic
 *   composition of the remaining events.
 */
import { DpParameterError } from './checks.ts';
import { zcdpToEpsilon } from './conversion.ts';
import { PICO, type Rounding, checkLedgerUnits, deltaToPico, epsilonToMicro, microToEpsilon, picoToDelta, picoToRho, rhoToPico } from './units.ts';

export type Mechanism = 'laplace' | 'gaussian';

export interface PrivacyEvent {
  readonly mechanism: Mechanism;
  /** ε in micro-units (1e-6). */
  readonly epsilon: number;
  /** δ in pico-units (1e-12). */
  readonly delta: number;
  /** ρ in pico-units (1e-12); 0 for laplace. */
  readonly rho: number;
}

/** A validated, frozen event from amounts already in ledger units. */
export function privacyEventFromUnits(e: PrivacyEvent): PrivacyEvent {
  if (e.mechanism !== 'laplace' && e.mechanism !== 'gaussian') {
    throw new DpParameterError('mechanism', `must be laplace or gaussian, got ${String(e.mechanism)}`);
  }
  checkLedgerUnits(e.epsilon, 'epsilon');
  checkLedgerUnits(e.delta, 'delta');
  checkLedgerUnits(e.rho, 'rho');
  if (e.mechanism === 'laplace' && e.rho !== 0) throw new DpParameterError('rho', 'a laplace event carries no ρ');
  if (e.mechanism === 'gaussian' && (e.rho === 0 || e.delta === 0)) {
    throw new DpParameterError('rho', 'a gaussian event needs ρ > 0 and the δ of its conversion');
  }
  return Object.freeze({ mechanism: e.mechanism, epsilon: e.epsilon, delta: e.delta, rho: e.rho });
}

/** A frozen event from real amounts (ε, δ, ρ), converted to units rounding up (never undercharge). */
export function privacyEvent(
  mechanism: Mechanism,
  amounts: { readonly epsilon: number; readonly delta?: number; readonly rho?: number },
  rounding: Rounding = 'up',
): PrivacyEvent {
  return privacyEventFromUnits({
    mechanism,
    epsilon: epsilonToMicro(amounts.epsilon, rounding),
    delta: deltaToPico(amounts.delta ?? 0, rounding),
    rho: rhoToPico(amounts.rho ?? 0, rounding),
  });
}

export interface Composition {
  /** Total ε in micro-units: the tighter valid bound. */
  readonly epsilon: number;
  /** Total δ in pico-units (the same under both bounds). */
  readonly delta: number;
  /** Which bound gave `epsilon`. */
  readonly method: 'basic' | 'zcdp';
  /** Basic composition's ε in micro-units, for comparison. */
  readonly basicEpsilon: number;
  /** The same totals as real numbers, for display. */
  readonly real: { readonly epsilon: number; readonly delta: number };
}

const sum = (xs: readonly number[]): number => {
  let s = 0;
  for (const x of xs) {
    s += x;
    if (!Number.isSafeInteger(s)) throw new DpParameterError('events', 'ledger total exceeds 2^53 units');
  }
  return s;
};

/** ε²/2 in pico-ρ for ε in micro-ε: (µ·1e-6)²/2 = µ²/2 · 1e-12, rounded up, exactly. */
export const pureToZcdpPico = (microEpsilon: number): number => {
  const m = BigInt(microEpsilon);
  return Number((m * m + 1n) / 2n);
};

/** Compose events into one (ε, δ) total: the tighter of basic and zCDP composition. */
export function compose(events: readonly PrivacyEvent[]): Composition {
  const valid = events.map(privacyEventFromUnits);
  const basicEpsilon = sum(valid.map((e) => e.epsilon));
  const delta = sum(valid.map((e) => e.delta));
  let epsilon = basicEpsilon;
  let method: Composition['method'] = 'basic';

  const gaussian = valid.filter((e) => e.mechanism === 'gaussian');
  const gaussianDelta = sum(gaussian.map((e) => e.delta));
  if (gaussian.length > 0 && gaussianDelta < PICO) {
    const gaussianRho = sum(gaussian.map((e) => e.rho));
    const laplace = valid.filter((e) => e.mechanism === 'laplace');
    const pure = laplace.filter((e) => e.delta === 0);
    const approx = laplace.filter((e) => e.delta > 0);
    // Two candidates: pure Laplace events composed basically, or folded into the zCDP sum.
    const candidates = [
      { rho: gaussianRho, rest: sum(laplace.map((e) => e.epsilon)) },
      { rho: sum([gaussianRho, ...pure.map((e) => pureToZcdpPico(e.epsilon))]), rest: sum(approx.map((e) => e.epsilon)) },
    ];
    for (const c of candidates) {
      const converted = epsilonToMicro(zcdpToEpsilon(picoToRho(c.rho), picoToDelta(gaussianDelta)), 'up');
      const total = converted + c.rest;
      if (total < epsilon) {
        epsilon = total;
        method = 'zcdp';
      }
    }
  }
  return Object.freeze({
    epsilon,
    delta,
    method,
    basicEpsilon,
    real: Object.freeze({ epsilon: microToEpsilon(epsilon), delta: picoToDelta(delta) }),
  });
}
