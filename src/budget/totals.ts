/**
 * Running totals of an account's privacy events, in ledger units (micro-ε, pico-δ, pico-ρ), and the
 * spent (ε, δ) the limits are checked against.
 *
 * The check is basic composition: Σε and Σδ of the releases, each release's (ε, δ) being what it
 * was charged (a Gaussian release's ε is its zCDP → (ε, δ) conversion at its own δ,
 * dp/budget-split.ts). Basic composition is a valid privacy filter even when each query's
 * parameters are chosen adaptively (Rogers, Roth, Ullman and Vadhan 2016, "Privacy Odometers and
 * Filters", Thm 3.6), and it is monotone: no charge ever lowers what is spent.
 *
 * Why not the tighter zCDP composition of the Gaussian releases: converting their summed ρ at their
 * summed δ is not monotone (a new release's δ can lower the converted ε), and taking the smaller
 * of two adaptively computed bounds is not a known-valid filter. Σρ is kept for the record. The
 * zcdp accounting (filter.ts) is a different filter: its conversion δ is fixed in advance.
 * Sums are exact, so a refund (the same event subtracted) restores the totals exactly.
 *
 * The totals also carry what the zcdp filter (filter.ts) checks: Σρ (a Laplace release counted as
 * ε²/2) and the approximate δ, kept under either accounting so that the dataset's accounting can
 * be changed between periods of the policy without rereading the events.
 */
import { type PrivacyEvent, pureToZcdpPico } from '../dp/index.ts';

export interface LedgerTotals {
  /** Σ ε of every release (micro-ε). */
  readonly epsMicro: number;
  /** Σ δ of every release (pico-δ). */
  readonly deltaPico: number;
  /** Σ ρ of the Gaussian releases (pico-ρ), for the record. */
  readonly rhoPico: number;
  /** Σ ρ under the zcdp filter (pico-ρ): each Gaussian release's ρ and each Laplace release's ε²/2. */
  readonly zrhoPico: number;
  /** Σ δ of the approximate-DP (Laplace) parts (pico-δ): the zcdp filter's δ budget. */
  readonly zdeltaPico: number;
}

/** What one event costs the zcdp filter: (ρ, approximate δ) in units. */
export function zcdpCost(event: PrivacyEvent): { readonly rho: number; readonly delta: number } {
  return event.mechanism === 'gaussian' ? { rho: event.rho, delta: 0 } : { rho: pureToZcdpPico(event.epsilon), delta: event.delta };
}

/** `totals` with `event` added (sign 1) or taken back (sign −1). */
export function addEvent(totals: LedgerTotals, event: PrivacyEvent, sign: 1 | -1 = 1): LedgerTotals {
  const z = zcdpCost(event);
  return Object.freeze({
    zrhoPico: totals.zrhoPico + sign * z.rho,
    zdeltaPico: totals.zdeltaPico + sign * z.delta,
    epsMicro: totals.epsMicro + sign * event.epsilon,
    deltaPico: totals.deltaPico + sign * event.delta,
    rhoPico: totals.rhoPico + sign * event.rho,
  });
}

export interface Spent {
  readonly epsMicro: number;
  readonly deltaPico: number;
}
