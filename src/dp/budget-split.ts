/**
 * How a query's (ε, δ) is shared among its noisy measurements and partition selection.
 *
 * The request lists the query's measurements, each with its aggregate and what it measures —
 * the query plan's measurements (sql/plan), the only place that says which measurements an
 * aggregate needs (AVG: a sum and a count; VARIANCE: a count, a sum and a sum of squares).
 * Private partition selection, when the group keys have no public domain, takes half of ε (a
 * group it drops is lost whole; docs/dp.md gives the diagnosis example). The measurements share
 * the rest with the same weight each, as in PipelineDP's default budget accountant.
 *
 * - laplace: the measurements' integer micro-ε is split evenly (remainders of 1 micro-ε go to the
 *   first shares), so Σ εᵢ equals the request exactly. Partition selection, if any, takes all of
 *   δ; otherwise the query charges δ = 0.
 * - gaussian: δ must be > 0. With partition selection, selection takes half of ε and of δ; the
 *   measurements get the rest (ε_M, δ_M). The largest ρ whose conversion at
 *   δ_M stays ≤ ε_M (conversion.ts, rounded down to pico-ρ) is split evenly over the m
 *   measurements, which compose to that ρ exactly (zCDP composition adds ρ).
 * - quantiles use the exponential mechanism, which is pure: its ε is the share in a laplace
 *   query; in a gaussian query its ρ share buys ε = √(8ρ), since the exponential mechanism is
 *   ε-bounded-range and hence ε²/8-zCDP (Cesar & Rogers 2021; Steinke 2024, "Sharp RDP & zCDP
 *   from pure DP", Cor. 7).
 *
 * The split reads only the request and the plan, never data. `events` are what the ledger
 * stores; they compose (accountant.ts) to at most `charge`, and their plain sums equal it.
 */
import { type Mechanism, type PrivacyEvent, privacyEventFromUnits } from './accountant.ts';
import { DpParameterError, checkDelta, checkEpsilon } from './checks.ts';
import { epsilonToZcdp } from './conversion.ts';
import { deltaToPico, epsilonToMicro, microToEpsilon, picoToDelta, picoToRho, rhoToPico, splitEvenly } from './units.ts';

export type MeasurementPart = 'count' | 'count_distinct' | 'sum' | 'sum_of_squares' | 'quantile';
const PARTS: ReadonlySet<string> = new Set<MeasurementPart>(['count', 'count_distinct', 'sum', 'sum_of_squares', 'quantile']);

/** One measurement to give a share: the aggregate it belongs to, and what it measures. */
export interface MeasurementRequest {
  readonly aggregate: number;
  readonly part: MeasurementPart;
}

export interface BudgetRequest {
  readonly mechanism: Mechanism;
  readonly epsilon: number;
  /** The most δ the query may use; a laplace query without partition selection charges 0. */
  readonly delta: number;
  /** The query's measurements in plan order; the split's `measurements` follow the same order. */
  readonly measurements: readonly MeasurementRequest[];
  /** True when some group key has no public domain (DP partition selection is needed). */
  readonly partitionSelection: boolean;
}

type MeasurementBase = MeasurementRequest;

/**
 * One measurement's share. `laplace` and `gaussian` members can be passed to `calibrateNoise`
 * as they are; an `exponential` one (a quantile) gives `epsilon` to `quantileFromHistogram`.
 */
export type MeasurementBudget =
  | (MeasurementBase & { readonly mechanism: 'laplace'; readonly epsilon: number; readonly rho: 0 })
  | (MeasurementBase & { readonly mechanism: 'gaussian'; readonly epsilon: 0; readonly rho: number })
  /** In a gaussian query `rho` is the share the exponential mechanism's ε was bought with. */
  | (MeasurementBase & { readonly mechanism: 'exponential'; readonly epsilon: number; readonly rho: number });

export interface PartitionSelectionBudget {
  readonly epsilon: number;
  readonly delta: number;
}

export interface BudgetSplit {
  readonly mechanism: Mechanism;
  readonly measurements: readonly MeasurementBudget[];
  readonly partitionSelection: PartitionSelectionBudget | undefined;
  /** What the query is charged (and reports): ε as requested, δ as needed. */
  readonly charge: { readonly epsilon: number; readonly delta: number };
  /** Ledger events of this release (units); their sums equal `charge`. */
  readonly events: readonly PrivacyEvent[];
}

/** ε for the exponential mechanism from a ρ share: the largest micro-ε with ε²/8 ≤ ρ. */
function exponentialEpsilonForRho(picoRho: number): number {
  // ε = µ·1e-6, ρ = p·1e-12: ε²/8 ≤ ρ ⇔ µ² ≤ 8p (exact integer test).
  const p8 = 8n * BigInt(picoRho);
  let micro = BigInt(Math.floor(Math.sqrt(Number(p8))));
  while (micro * micro > p8) micro -= 1n;
  while ((micro + 1n) * (micro + 1n) <= p8) micro += 1n;
  if (micro < 1n) throw new DpParameterError('epsilon', 'too small to give a quantile any budget');
  return microToEpsilon(Number(micro));
}

export function splitBudget(request: BudgetRequest): BudgetSplit {
  const { mechanism, partitionSelection } = request;
  if (mechanism !== 'laplace' && mechanism !== 'gaussian') {
    throw new DpParameterError('mechanism', `must be laplace or gaussian, got ${String(mechanism)}`);
  }
  const epsilonMicro = epsilonToMicro(checkEpsilon(request.epsilon));
  const deltaPico = deltaToPico(checkDelta(request.delta));
  const parts = request.measurements.map(({ aggregate, part }) => {
    if (!PARTS.has(part)) throw new DpParameterError('measurements', `unknown measurement ${String(part)}`);
    return { aggregate, part };
  });
  if ((partitionSelection || mechanism === 'gaussian') && deltaPico === 0) {
    throw new DpParameterError('delta', partitionSelection ? 'partition selection needs δ > 0' : 'the gaussian mechanism needs δ > 0');
  }
  const m = parts.length;
  const shares = m + (partitionSelection ? 1 : 0);
  if (shares === 0) {
    return Object.freeze({ mechanism, measurements: [], partitionSelection: undefined, charge: { epsilon: 0, delta: 0 }, events: [] });
  }
  // Partition selection takes half of ε (a group it drops is lost whole); the measurements share the rest.
  const selectionShare = partitionSelection ? (m > 0 ? Math.floor(epsilonMicro / 2) : epsilonMicro) : 0;
  const epsilonShares = [...(m > 0 ? splitEvenly(epsilonMicro - selectionShare, m) : []), ...(partitionSelection ? [selectionShare] : [])];
  if (epsilonShares.some((s) => s === 0)) throw new DpParameterError('epsilon', `too small to split over ${shares} measurements`);
  const selectionEpsilon = partitionSelection ? epsilonShares[m]! : 0;
  const measurementEpsilon = epsilonMicro - selectionEpsilon;
  const events: PrivacyEvent[] = [];
  let measurements: MeasurementBudget[];
  let selectionDelta = 0;
  let chargedDelta: number;

  if (mechanism === 'laplace') {
    selectionDelta = partitionSelection ? deltaPico : 0;
    chargedDelta = selectionDelta;
    measurements = parts.map(({ aggregate, part }, i): MeasurementBudget => {
      const epsilon = microToEpsilon(epsilonShares[i]!);
      return part === 'quantile'
        ? { aggregate, part, mechanism: 'exponential', epsilon, rho: 0 }
        : { aggregate, part, mechanism: 'laplace', epsilon, rho: 0 };
    });
    if (m > 0) events.push(privacyEventFromUnits({ mechanism: 'laplace', epsilon: measurementEpsilon, delta: 0, rho: 0 }));
  } else {
    selectionDelta = partitionSelection ? (m > 0 ? Math.floor(deltaPico / 2) : deltaPico) : 0;
    if (partitionSelection && selectionDelta === 0) throw new DpParameterError('delta', 'too small to split between measurements and partition selection');
    const measurementDelta = deltaPico - selectionDelta;
    chargedDelta = deltaPico;
    measurements = [];
    if (m > 0) {
      const rhoTotal = rhoToPico(epsilonToZcdp(microToEpsilon(measurementEpsilon), picoToDelta(measurementDelta)), 'down');
      const rhoShares = splitEvenly(rhoTotal, m);
      if (rhoShares.some((r) => r === 0)) throw new DpParameterError('epsilon', `too small to split over ${m} measurements`);
      measurements = parts.map(({ aggregate, part }, i): MeasurementBudget => {
        const rho = picoToRho(rhoShares[i]!);
        return part === 'quantile'
          ? { aggregate, part, mechanism: 'exponential', epsilon: exponentialEpsilonForRho(rhoShares[i]!), rho }
          : { aggregate, part, mechanism: 'gaussian', epsilon: 0, rho };
      });
      events.push(privacyEventFromUnits({ mechanism: 'gaussian', epsilon: measurementEpsilon, delta: measurementDelta, rho: rhoTotal }));
    }
  }
  if (partitionSelection) {
    events.push(privacyEventFromUnits({ mechanism: 'laplace', epsilon: selectionEpsilon, delta: selectionDelta, rho: 0 }));
  }
  return Object.freeze({
    mechanism,
    measurements: Object.freeze(measurements.map((x) => Object.freeze(x))),
    partitionSelection: partitionSelection
      ? Object.freeze({ epsilon: microToEpsilon(selectionEpsilon), delta: picoToDelta(selectionDelta) })
      : undefined,
    charge: Object.freeze({ epsilon: microToEpsilon(epsilonMicro), delta: picoToDelta(chargedDelta) }),
    events: Object.freeze(events),
  });
}
