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

describe('quantile on a narrow grid: a grid point of the chosen bin', () => {
  /** Grid points lo … hi split into B bins as the SQL does: bin(x) = ⌊(x − lo)·B / W⌋. */
  function pointProbabilities(counts: readonly number[], lo: number, hi: number, p: number, epsilon: number): number[] {
    const bins = emProbabilities(counts, p, epsilon, 1);
    const w = hi - lo + 1;
    const binOf = (x: number): number => Math.floor(((x - lo) * counts.length) / w);
    const size = new Array<number>(counts.length).fill(0);
    for (let x = lo; x <= hi; x++) size[binOf(x)]! += 1;
    const out: number[] = [];
    for (let x = lo; x <= hi; x++) out.push(bins[binOf(x)]! / size[binOf(x)]!);
    return out;
  }

  /** The sampler before the fix: a real point in the bin's share of [lower, upper], rounded. */
  function roundedRealPoint(counts: readonly number[], params: { lower: number; upper: number; p: number; epsilon: number }, rng: ReturnType<typeof insecureSeededRandomSource>): number {
    const j = quantileBin(counts, { ...params, maxRowsPerUnit: 1 }, rng);
    const width = (params.upper - params.lower) / counts.length;
    return Math.min(params.upper, Math.max(params.lower, Math.round(params.lower + (j + rng.uniformFraction()) * width)));
  }

  const CASES: readonly { name: string; counts: number[]; lo: number; hi: number; p: number; epsilon: number }[] = [
    { name: 'bounds [1, 5], a spread histogram', counts: [5, 9, 14, 9, 3], lo: 1, hi: 5, p: 0.5, epsilon: 0.4 },
    { name: 'bounds [0, 10], p = 0.25', counts: [2, 4, 4, 6, 9, 3, 2, 1, 1, 0, 3], lo: 0, hi: 10, p: 0.25, epsilon: 0.3 },
    // 25 grid points in 10 bins of two or three points (as 1024 bins split a wider grid).
    { name: 'bounds [0, 24] in 10 bins, two or three points per bin', counts: [0, 3, 8, 20, 6, 2, 0, 0, 1, 0], lo: 0, hi: 24, p: 0.5, epsilon: 0.5 },
  ];
  const N = 60_000;

  const observe = (draw: () => number, lo: number, hi: number): number[] => {
    const observed = new Array<number>(hi - lo + 1).fill(0);
    for (let i = 0; i < N; i++) {
      const x = draw();
      expect(Number.isInteger(x) && x >= lo && x <= hi, String(x)).to.equal(true);
      observed[x - lo]! += 1;
    }
    return observed;
  };

  for (const c of CASES) {
    it(`releases each grid point with its bin's probability over its bin's points: ${c.name} (χ², α = 1e-6)`, () => {
      const rng = insecureSeededRandomSource(`grid-${c.name}`);
      const params = { lower: c.lo, upper: c.hi, p: c.p, epsilon: c.epsilon, maxRowsPerUnit: 1, grid: grid(1) };
      const observed = observe(() => quantileFromHistogram(c.counts, params, rng), c.lo, c.hi);
      const r = chiSquareCategories(observed, pointProbabilities(c.counts, c.lo, c.hi, c.p, c.epsilon), N);
      expect(r.pValue, `χ²=${r.statistic.toFixed(1)} df=${r.df}`).to.be.greaterThan(1e-6);
    });

    it(`rejects (positive control) a rounded real point in the bin: ${c.name}`, () => {
      const rng = insecureSeededRandomSource(`grid-control-${c.name}`);
      const observed = observe(() => roundedRealPoint(c.counts, { lower: c.lo, upper: c.hi, p: c.p, epsilon: c.epsilon }, rng), c.lo, c.hi);
      expect(chiSquareCategories(observed, pointProbabilities(c.counts, c.lo, c.hi, c.p, c.epsilon), N).pValue).to.be.lessThan(1e-6);
    });
  }

  it('gives the median 1 of 1,000 values all 1 on bounds [1, 5] at ε = 10, and p = 0 of all-0 on [0, 10] as 0', () => {
    const rng = insecureSeededRandomSource('narrow-repro');
    const g = grid(1);
    let wrong = 0;
    for (let i = 0; i < 2_000; i++) {
      if (quantileFromHistogram([1000, 0, 0, 0, 0], { lower: 1, upper: 5, p: 0.5, epsilon: 10, maxRowsPerUnit: 1, grid: g }, rng) !== 1) wrong += 1;
      if (quantileFromHistogram([1000, ...new Array<number>(10).fill(0)], { lower: 0, upper: 10, p: 0, epsilon: 10, maxRowsPerUnit: 1, grid: g }, rng) !== 0) wrong += 1;
    }
    // Any other bin has probability below e^-2000 per draw: one wrong answer in 4,000 has p < 1e-6.
    expect(wrong).to.equal(0);
  });
});
