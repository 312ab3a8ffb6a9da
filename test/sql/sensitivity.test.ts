import { expect } from 'chai';
import fc from 'fast-check';
import { countSensitivity, type QueryPlan, sumOfSquaresSensitivity, sumSensitivity, unitsSensitivity } from '../../src/sql/plan/index.ts';
import { hospital, plan } from './support.ts';

const sensitivities = (p: QueryPlan): string[] =>
  p.measurements.map((m) => `${m.measure}${m.counts === undefined ? '' : `(${m.counts})`}: ${m.sensitivity.l1}/${m.sensitivity.l2Squared}/${m.sensitivity.linf}`);

describe('sensitivity: derived from m, k and the bounds, in grid units', () => {
  it('counts rows under m = 20 whatever the grouping; distinct units under k = 4', async () => {
    const p = await plan('SELECT region, COUNT(*), COUNT(diagnosis), COUNT(DISTINCT patient_id) FROM visits GROUP BY region');
    expect(sensitivities(p)).to.deep.equal(['count(rows): 20/400/20', 'count(values): 20/400/20', 'count(units): 4/4/1']);
    const ungrouped = await plan('SELECT COUNT(DISTINCT patient_id) FROM visits');
    expect(sensitivities(ungrouped)).to.deep.equal(['count(units): 1/1/1']);
  });

  it('sums: m·max(|lo|, |hi|) for SUM, m·(half-width) for the centred sum of AVG and VARIANCE', async () => {
    const p = await plan('SELECT SUM(cost), AVG(cost), VARIANCE(cost) FROM visits');
    expect(sensitivities(p)).to.deep.equal([
      'sum: 10000000/100000000000000/10000000', // 20 · 500000
      'sum: 5000000/25000000000000/5000000', // 20 · 250000 around 250000
      'count(values): 20/400/20',
      'count(values): 20/400/20',
      'sum: 5000000/25000000000000/5000000',
      'sumsq: 1250000000000/1562500000000000000000000/1250000000000', // 20 · 250000²
    ]);
    expect(p.measurements.map((m) => m.center)).to.deep.equal([0n, 250000n, 0n, 0n, 250000n, 250000n]);
  });

  it('centres on the grid midpoint of asymmetric and negative bounds', async () => {
    // fee on [-1.5, 2.5] with granularity 0.25: grid [-6, 10], m = 10.
    const fee = await plan('SELECT SUM(fee), AVG(fee) FROM visits', {}, hospital);
    expect(sensitivities(fee)).to.deep.equal(['sum: 100/10000/100', 'sum: 80/6400/80', 'count(values): 10/100/10']);
    expect(fee.measurements.map((m) => m.center)).to.deep.equal([0n, 2n, 0n]);
    // score on [-10, 10] with granularity 5: grid [-2, 2] around 0, one row per person.
    expect(sensitivities(await plan('SELECT AVG(score) FROM patients', {}, hospital))).to.deep.equal(['sum: 2/4/2', 'count(values): 1/1/1']);
    // birth_year on [1900, 2026]: 63 either side of 1963 instead of 2026 from 0.
    const born = await plan('SELECT SUM(birth_year), AVG(birth_year) FROM patients');
    expect(sensitivities(born).slice(0, 2)).to.deep.equal(['sum: 2026/4104676/2026', 'sum: 63/3969/63']);
  });

  it('partition selection: L1 = min(k, m), L∞ = 1', async () => {
    const p = await plan('SELECT diagnosis, COUNT(*) FROM visits GROUP BY diagnosis');
    expect(p.partitions).to.deep.include({ kind: 'private', sensitivity: unitsSensitivity(4n) });
    const joined = await plan("SELECT date_trunc('hour', seen_at), COUNT(*) FROM visits GROUP BY 1", {}, hospital);
    expect(joined.partitions).to.deep.include({ kind: 'private', sensitivity: unitsSensitivity(3n) });
  });

  it('is never below 1, even for a column whose bounds hold one grid point', async () => {
    const s = sumSensitivity(20n, 0n);
    expect([s.l1, s.l2Squared, s.linf]).to.deep.equal([1n, 1n, 1n]);
  });

  it('bounds what one person can change, on random people (brute force)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.bigInt({ min: -50n, max: 50n }),
        fc.bigInt({ min: 0n, max: 60n }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.bigInt({ min: -200n, max: 200n })), { maxLength: 12 }),
        (m, k, lo, span, rows) => {
          const hi = lo + span;
          const center = (lo + hi) / 2n - ((lo + hi) % 2n !== 0n && lo + hi < 0n ? 1n : 0n);
          const dev = hi - center > center - lo ? hi - center : center - lo;
          // The person after bounding: at most k keys, at most m rows, values clamped.
          const keys: number[] = [];
          const kept: [number, bigint][] = [];
          for (const [key, v] of rows) {
            if (!keys.includes(key)) {
              if (keys.length >= Math.min(k, m)) continue;
              keys.push(key);
            }
            if (kept.length >= m) break;
            kept.push([key, v < lo ? lo : v > hi ? hi : v]);
          }
          const vector = (f: (v: bigint) => bigint): Map<number, bigint> => {
            const out = new Map<number, bigint>();
            for (const [key, v] of kept) out.set(key, (out.get(key) ?? 0n) + f(v));
            return out;
          };
          const check = (vec: Map<number, bigint>, s: { l1: bigint; l2Squared: bigint; linf: bigint }): void => {
            const abs = [...vec.values()].map((x) => (x < 0n ? -x : x));
            expect(abs.reduce((a, b) => a + b, 0n) <= s.l1).to.equal(true);
            expect(abs.reduce((a, b) => a + b * b, 0n) <= s.l2Squared).to.equal(true);
            expect(abs.every((x) => x <= s.linf)).to.equal(true);
          };
          const M = BigInt(m);
          check(vector(() => 1n), countSensitivity(M));
          check(new Map(keys.map((key) => [key, 1n])), unitsSensitivity(BigInt(Math.min(k, m))));
          const maxAbs = (hi < 0n ? -hi : hi) > (lo < 0n ? -lo : lo) ? (hi < 0n ? -hi : hi) : lo < 0n ? -lo : lo;
          check(vector((v) => v), sumSensitivity(M, maxAbs));
          check(vector((v) => v - center), sumSensitivity(M, dev));
          check(vector((v) => (v - center) * (v - center)), sumOfSquaresSensitivity(M, dev));
        },
      ),
      { numRuns: 500 },
    );
  });
});
