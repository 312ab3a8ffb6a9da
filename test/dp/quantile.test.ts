import { expect } from 'chai';
import fc from 'fast-check';
import { DpParameterError } from '../../src/dp/checks.ts';
import { grid, toGridUnits, fromGridUnits } from '../../src/dp/grid.ts';
import { quantileBin, quantileFromHistogram } from '../../src/dp/quantile.ts';
import { insecureSeededRandomSource } from '../../src/dp/random.ts';
import { chiSquareCategories } from './support/stats.ts';

/** The exponential mechanism's bin probabilities, computed independently in floating point. */
function emProbabilities(counts: readonly number[], p: number, epsilon: number, maxRows: number): number[] {
  const n = counts.reduce((a, b) => a + b, 0);
  const target = p * n;
  let start = 0;
  const logw = counts.map((c) => {
    const lo = start;
    const hi = start + c;
    start = hi;
    const dist = target < lo ? lo - target : target > hi ? target - hi : 0;
    return (-epsilon * dist) / (2 * maxRows);
  });
  const max = Math.max(...logw);
  const w = logw.map((l) => Math.exp(l - max));
  const z = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / z);
}

describe('quantile from a histogram', () => {
  const counts = [3, 8, 15, 30, 12, 6, 2, 1, 0, 1];

  it('draws bins with the exponential mechanism’s probabilities', () => {
    const rng = insecureSeededRandomSource('em');
    const n = 100_000;
    const observed = new Array<number>(counts.length).fill(0);
    for (let i = 0; i < n; i++) observed[quantileBin(counts, { lower: 0, upper: 10, p: 0.5, epsilon: 0.4, maxRowsPerUnit: 2 }, rng)]! += 1;
    const r = chiSquareCategories(observed, emProbabilities(counts, 0.5, 0.4, 2), n);
    expect(r.pValue, `χ²=${r.statistic.toFixed(1)} df=${r.df}`).to.be.greaterThan(1e-6);
  });

  it('rejects (positive control) a mechanism run at 1.3× the ε', () => {
    const rng = insecureSeededRandomSource('em-control');
    const n = 100_000;
    const observed = new Array<number>(counts.length).fill(0);
    for (let i = 0; i < n; i++) observed[quantileBin(counts, { lower: 0, upper: 10, p: 0.5, epsilon: 0.52, maxRowsPerUnit: 2 }, rng)]! += 1;
    expect(chiSquareCategories(observed, emProbabilities(counts, 0.5, 0.4, 2), n).pValue).to.be.lessThan(1e-6);
  });

  it('has utility sensitivity maxRowsPerUnit: neighbouring histograms change bin probabilities by ≤ e^ε', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(50), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(11), { minLength: 1, maxLength: 3 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0.01, max: 5, noNaN: true }),
        (base, added, p, epsilon) => {
          const maxRows = 3;
          const neighbour = [...base];
          for (const bin of added.slice(0, maxRows)) neighbour[bin % base.length]! += 1; // one person's ≤ R rows
          const a = emProbabilities(base, p, epsilon, maxRows);
          const b = emProbabilities(neighbour, p, epsilon, maxRows);
          return a.every((x, i) => Math.abs(Math.log(x / b[i]!)) <= epsilon * (1 + 1e-9) + 1e-12);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('finds the median of a concentrated histogram at large ε', () => {
    const rng = insecureSeededRandomSource('median');
    const hist = [0, 0, 0, 0, 0, 0, 500, 0, 0, 0];
    for (let i = 0; i < 100; i++) {
      const x = quantileFromHistogram(hist, { lower: 0, upper: 100, p: 0.5, epsilon: 1, maxRowsPerUnit: 1 }, rng);
      expect(x).to.be.within(60, 70);
    }
  });

  it('returns a finite value within the bounds, on the grid when given, even for an empty histogram', () => {
    const rng = insecureSeededRandomSource('bounds');
    const g = grid(0.01);
    fc.assert(
      fc.property(
        fc.array(fc.nat(1000), { minLength: 1, maxLength: 20 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0.01, max: 10, noNaN: true }),
        (hist, p, epsilon) => {
          const x = quantileFromHistogram(hist, { lower: 0, upper: 5000, p, epsilon, maxRowsPerUnit: 20, grid: g }, rng);
          return Number.isFinite(x) && x >= 0 && x <= 5000 && fromGridUnits(toGridUnits(x, g), g) === x;
        },
      ),
      { numRuns: 200 },
    );
    const empty = quantileFromHistogram([0, 0, 0], { lower: -1, upper: 1, p: 0.5, epsilon: 1, maxRowsPerUnit: 1 }, rng);
    expect(empty).to.be.within(-1, 1);
  });

  it('refuses bad parameters', () => {
    const rng = insecureSeededRandomSource('bad');
    const ok = { lower: 0, upper: 1, p: 0.5, epsilon: 1, maxRowsPerUnit: 1 };
    expect(() => quantileFromHistogram([], ok, rng)).to.throw(DpParameterError);
    expect(() => quantileFromHistogram([1], { ...ok, p: 1.5 }, rng)).to.throw(DpParameterError);
    expect(() => quantileFromHistogram([1], { ...ok, epsilon: 0 }, rng)).to.throw(DpParameterError);
    expect(() => quantileFromHistogram([1], { ...ok, lower: 2 }, rng)).to.throw(DpParameterError);
    expect(() => quantileFromHistogram([-1], ok, rng)).to.throw(DpParameterError);
  });
});
