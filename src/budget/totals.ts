/**
 * Running totals of an account's privacy events, in ledger units, from which the composed
 * (ε, δ) is computed without reading every event: the same two bounds as `dp/accountant.ts`
 * `compose` (basic composition, and zCDP composition of the Gaussian events — optionally with the
 * pure Laplace events folded in as ε²/2-zCDP — converted once at the Gaussian events' total δ).
 * Sums are exact, so a refund (the same event subtracted) restores the totals exactly.
 */
import { epsilonToMicro, microToEpsilon, picoToDelta, picoToRho, type PrivacyEvent, zcdpToEpsilon } from '../dp/index.ts';

export interface LedgerTotals {
  /** Σ ε of every event (micro-ε): basic composition. */
  readonly epsMicro: number;
  /** Σ δ of every event (pico-δ). */
  readonly deltaPico: number;
  /** Σ ε of Laplace events (micro-ε). */
  readonly laplaceEpsMicro: number;
  /** Σ ε of Laplace events with δ > 0, i.e. with partition selection (micro-ε). */
  readonly laplaceApproxEpsMicro: number;
  /** Σ ⌈ε²/2⌉ of pure Laplace events (pico-ρ): their zCDP cost. */
  readonly pureRhoPico: number;
  /** Σ ρ of Gaussian events (pico-ρ). */
  readonly gaussRhoPico: number;
  /** Σ δ of Gaussian events (pico-δ): where their ρ total is converted. */
  readonly gaussDeltaPico: number;
}

export const EMPTY_TOTALS: LedgerTotals = Object.freeze({
  epsMicro: 0,
  deltaPico: 0,
  laplaceEpsMicro: 0,
  laplaceApproxEpsMicro: 0,
  pureRhoPico: 0,
  gaussRhoPico: 0,
  gaussDeltaPico: 0,
});

/** ε²/2 in pico-ρ for ε in micro-ε, rounded up, exactly. */
export function pureToRhoPico(epsMicro: number): number {
  const m = BigInt(epsMicro);
  return Number((m * m + 1n) / 2n);
}

/** `totals` with `event` added (sign 1) or taken back (sign −1). */
export function addEvent(totals: LedgerTotals, event: PrivacyEvent, sign: 1 | -1 = 1): LedgerTotals {
  const laplace = event.mechanism === 'laplace';
  const pure = laplace && event.delta === 0;
  return Object.freeze({
    epsMicro: totals.epsMicro + sign * event.epsilon,
    deltaPico: totals.deltaPico + sign * event.delta,
    laplaceEpsMicro: totals.laplaceEpsMicro + (laplace ? sign * event.epsilon : 0),
    laplaceApproxEpsMicro: totals.laplaceApproxEpsMicro + (laplace && !pure ? sign * event.epsilon : 0),
    pureRhoPico: totals.pureRhoPico + (pure ? sign * pureToRhoPico(event.epsilon) : 0),
    gaussRhoPico: totals.gaussRhoPico + (laplace ? 0 : sign * event.rho),
    gaussDeltaPico: totals.gaussDeltaPico + (laplace ? 0 : sign * event.delta),
  });
}

export interface Spent {
  /** Composed ε in micro-units: the tighter valid bound. */
  readonly epsMicro: number;
  readonly deltaPico: number;
}

/** The composed (ε, δ) of the totals. */
export function composeTotals(t: LedgerTotals): Spent {
  let eps = t.epsMicro;
  if (t.gaussRhoPico > 0 && t.gaussDeltaPico > 0) {
    const delta = picoToDelta(t.gaussDeltaPico);
    const candidates = [
      { rho: t.gaussRhoPico, rest: t.laplaceEpsMicro },
      { rho: t.gaussRhoPico + t.pureRhoPico, rest: t.laplaceApproxEpsMicro },
    ];
    for (const c of candidates) {
      const total = epsilonToMicro(zcdpToEpsilon(picoToRho(c.rho), delta), 'up') + c.rest;
      if (total < eps) eps = total;
    }
  }
  return { epsMicro: eps, deltaPico: t.deltaPico };
}

export const spentReal = (s: Spent): { epsilon: number; delta: number } => ({
  epsilon: microToEpsilon(s.epsMicro),
  delta: picoToDelta(s.deltaPico),
});
