/**
 * Releases per budget: how many releases of one kind the demo analyst limit (ε 10, δ 1e-6) admits
 * under `accounting: basic` and `accounting: zcdp` (src/budget/filter.ts, the same check the
 * ledger runs), for Gaussian releases at (0.2, 1e-7) and Laplace releases at ε 0.5 and 0.1.
 * zcdp rows are compared with basic.
 */
import { type Accounting, fits } from '../src/budget/filter.ts';
import { addEvent, type LedgerTotals } from '../src/budget/totals.ts';
import { epsilonToZcdp, privacyEvent, type PrivacyEvent } from '../src/dp/index.ts';
import type { Benchmark, BenchRow } from './types.ts';

const LIMIT = { epsMicro: 10_000_000, deltaPico: 1_000_000 };

function admitted(accounting: Accounting, event: PrivacyEvent): number {
  let t: LedgerTotals = { epsMicro: 0, deltaPico: 0, rhoPico: 0, zrhoPico: 0, zdeltaPico: 0 };
  for (let n = 0; n < 1_000_000; n++) {
    const next = addEvent(t, event);
    if (!fits(accounting, LIMIT, next)) return n;
    t = next;
  }
  return Infinity;
}

const bench: Benchmark = async () => {
  const releases: [string, PrivacyEvent][] = [
    ['gaussian (0.2, 1e-7)', privacyEvent('gaussian', { epsilon: 0.2, delta: 1e-7, rho: epsilonToZcdp(0.2, 1e-7) }, 'down')],
    ['laplace ε 0.5', privacyEvent('laplace', { epsilon: 0.5 })],
    ['laplace ε 0.1', privacyEvent('laplace', { epsilon: 0.1 })],
  ];
  const rows: BenchRow[] = [];
  for (const [name, event] of releases) {
    const scenario = `releases per demo analyst limit, ${name}`;
    rows.push({ scenario, figure: 'basic', value: admitted('basic', event), unit: 'releases' });
    rows.push({ scenario, figure: 'zcdp', value: admitted('zcdp', event), unit: 'releases', reference: { scenario, figure: 'basic' } });
  }
  return rows;
};

export default bench;
