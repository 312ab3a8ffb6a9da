/**
 * The privacy filters that admit releases against a limit, in ledger units (micro-ε, pico-δ,
 * pico-ρ). A dataset's `budget.accounting` picks one for all its limits (privacy.md, Accounting):
 *
 * - `basic`: Σε ≤ ε_L and Σδ ≤ δ_L (totals.ts gives why this is a valid adaptive filter).
 * - `zcdp`: the limit (ε_L, δ_L) is turned, before any release, into a ρ budget
 *   ρ_L = the largest ρ whose zCDP → (ε, δ) conversion at δ_L/2 is ≤ ε_L, and a δ budget of
 *   δ_L − δ_L/2 for the approximate-DP parts. A Gaussian release costs its ρ; a Laplace release
 *   (ε-DP, or (ε, δ)-DP for partition selection) costs ε²/2 of ρ and its δ of the δ budget.
 *   A release is admitted while both sums stay inside. docs/dp.md gives the argument that this is
 *   valid under fully adaptive composition.
 *
 * Under either filter the spent amount is reported as (ε, δ): for `zcdp`, the conversion of the
 * spent ρ at δ_L/2 (plus that δ_L/2 once any ρ is spent) and the spent approximate δ.
 */
import { epsilonToMicro, epsilonToZcdp, picoToDelta, rhoToPico, zcdpToEpsilon, picoToRho } from '../dp/index.ts';
import type { LedgerTotals, Spent } from './totals.ts';

export type Accounting = 'basic' | 'zcdp';

/** A limit in ledger units, top-ups included. */
export interface UnitLimit {
  readonly epsMicro: number;
  readonly deltaPico: number;
}

/** The ρ and δ budgets a zcdp filter derives from a limit (fixed before any release). */
export interface ZcdpBudget {
  readonly rhoPico: number;
  /** The δ at which the spent ρ is converted to ε. */
  readonly conversionDeltaPico: number;
  /** The δ budget of the approximate-DP parts. */
  readonly approxDeltaPico: number;
}

/** (ε_L, δ_L) → a ρ budget at δ_L/2 and a δ budget of the rest; ρ rounded down (never overspend). */
export function zcdpBudget(limit: UnitLimit): ZcdpBudget {
  const conversionDeltaPico = Math.floor(limit.deltaPico / 2);
  const approxDeltaPico = limit.deltaPico - conversionDeltaPico;
  if (limit.epsMicro <= 0 || conversionDeltaPico <= 0) return { rhoPico: 0, conversionDeltaPico, approxDeltaPico };
  const rho = epsilonToZcdp(limit.epsMicro / 1e6, picoToDelta(conversionDeltaPico));
  return { rhoPico: rhoToPico(rho, 'down'), conversionDeltaPico, approxDeltaPico };
}

/**
 * The filter a limit actually uses: a limit without δ (a metric's pure-ε budget) has no ρ budget
 * and keeps basic composition; each limit is its own filter, so mixing is sound.
 */
export const effective = (accounting: Accounting, limit: UnitLimit): Accounting =>
  accounting === 'zcdp' && limit.deltaPico >= 2 ? 'zcdp' : 'basic';

/** Does the account's spending stay inside the limit under `accounting`? */
export function fits(accounting: Accounting, limit: UnitLimit, t: LedgerTotals): boolean {
  if (effective(accounting, limit) === 'basic') return t.epsMicro <= limit.epsMicro && t.deltaPico <= limit.deltaPico;
  const b = zcdpBudget(limit);
  return t.zrhoPico <= b.rhoPico && t.zdeltaPico <= b.approxDeltaPico;
}

/** What an account has spent, as (ε, δ) in units, under `accounting`. */
export function spent(accounting: Accounting, limit: UnitLimit, t: LedgerTotals): Spent {
  if (effective(accounting, limit) === 'basic') return { epsMicro: t.epsMicro, deltaPico: t.deltaPico };
  if (t.zrhoPico <= 0) return { epsMicro: 0, deltaPico: Math.max(0, t.zdeltaPico) };
  const b = zcdpBudget(limit);
  const eps = epsilonToMicro(zcdpToEpsilon(picoToRho(t.zrhoPico), picoToDelta(b.conversionDeltaPico)), 'up');
  // ρ ≤ ρ_L converts to at most ε_L; the cap only absorbs the final rounding up.
  const epsMicro = t.zrhoPico <= b.rhoPico ? Math.min(eps, limit.epsMicro) : eps;
  return { epsMicro, deltaPico: b.conversionDeltaPico + Math.max(0, t.zdeltaPico) };
}
