import { expect } from 'chai';
import {
  averageAccuracy,
  epsilonForHalfWidth,
  gaussianHalfWidthUnits,
  laplaceHalfWidthUnits,
  noiseAccuracy,
  rhoForHalfWidth,
} from '../../src/dp/accuracy.ts';
import { type NoiseSpec, gaussianNoise, laplaceNoise } from '../../src/dp/calibrate.ts';
import { discreteGaussianPmf } from '../../src/dp/discrete-gaussian.ts';
import { discreteLaplacePmf } from '../../src/dp/discrete-laplace.ts';
import { grid } from '../../src/dp/grid.ts';
import { sampleNoise } from '../../src/dp/mechanisms.ts';
import { insecureSeededRandomSource } from '../../src/dp/random.ts';
import { rational, toNumber } from '../../src/dp/rational.ts';
import { integerSensitivity } from '../../src/dp/sensitivity.ts';
import { binomialLowerTail, binomialTestP } from './support/stats.ts';

const coverage = (h: number, pmf: (x: number) => number): number => {
  let c = pmf(0);
  for (let x = 1; x <= h; x++) c += 2 * pmf(x);
  return c;
};

const pmfOf = (noise: NoiseSpec): ((x: number) => number) =>
  noise.mechanism === 'laplace' ? (x) => discreteLaplacePmf(x, noise.scale) : (x) => discreteGaussianPmf(x, noise.sigma2);

describe('accuracy', () => {
  it('gives the exact discrete Laplace half-width (ε = 0.5, Δ = 1 → 6 at 95%)', () => {
    const noise = laplaceNoise(integerSensitivity(1n), 0.5);
    const a = noiseAccuracy(noise, 0.95);
    expect(a.halfWidth).to.equal(6);
    expect(a.ci).to.deep.equal([-6, 6]);
    expect(a.stddev).to.be.closeTo(Math.sqrt((2 * Math.exp(-0.5)) / (1 - Math.exp(-0.5)) ** 2), 1e-12);
    expect(a.approximate).to.equal(false);
  });

  const specs: [string, NoiseSpec][] = [
    ['Laplace t=2', laplaceNoise(integerSensitivity(1n), 0.5)],
    ['Laplace t=7.3', laplaceNoise(integerSensitivity(73n), 10)],
    ['Gaussian σ=3.5', gaussianNoise(integerSensitivity(7n), 2)],
    ['Gaussian σ=40', gaussianNoise(integerSensitivity(40n), 0.5)],
  ];
  for (const [name, noise] of specs) {
    it(`reports the smallest h with P[|Z| ≤ h] ≥ c (${name})`, () => {
      const pmf = pmfOf(noise);
      for (const c of [0.5, 0.9, 0.95, 0.99]) {
        const h = Number(
          noise.mechanism === 'laplace' ? laplaceHalfWidthUnits(noise.scale, c) : gaussianHalfWidthUnits(noise.sigma2, c),
        );
        expect(coverage(h, pmf), `c=${c}`).to.be.at.least(c - 1e-12);
        if (h > 0) expect(coverage(h - 1, pmf), `c=${c}`).to.be.lessThan(c);
      }
    });

    it(`covers the noise 95% of the time on 20 000 draws (${name})`, () => {
      const rng = insecureSeededRandomSource(`coverage-${name}`);
      const n = 20_000;
      const h = BigInt(noiseAccuracy(noise, 0.95).halfWidth);
      let inside = 0;
      for (let i = 0; i < n; i++) {
        const z = sampleNoise(noise, rng);
        if (z <= h && z >= -h) inside++;
      }
      const exact = coverage(Number(h), pmfOf(noise));
      expect(binomialTestP(inside, n, exact)).to.be.greaterThan(1e-6);
      // not significantly below the promised 95%
      expect(binomialLowerTail(inside, n, 0.95)).to.be.greaterThan(1e-6);
    });
  }

  it('detects (positive control) an interval computed for a 30% smaller scale', () => {
    const noise = laplaceNoise(integerSensitivity(10n), 1);
    const tooNarrow = laplaceHalfWidthUnits(rational(7n), 0.95);
    const rng = insecureSeededRandomSource('coverage-control');
    const n = 20_000;
    let inside = 0;
    for (let i = 0; i < n; i++) {
      const z = sampleNoise(noise, rng);
      if (z <= tooNarrow && z >= -tooNarrow) inside++;
    }
    expect(binomialLowerTail(inside, n, 0.95)).to.be.lessThan(1e-6);
  });

  it('scales stddev and interval back by the granularity, on the grid', () => {
    const g = grid(0.01);
    const noise = laplaceNoise(integerSensitivity(100n), 1); // scale 100 grid units = 1.00
    const a = noiseAccuracy(noise, 0.95, g);
    const units = Number(laplaceHalfWidthUnits(noise.scale, 0.95));
    expect(a.halfWidth).to.equal(Number((units / 100).toFixed(2)));
    expect(a.stddev).to.be.closeTo(Math.SQRT2, 0.01);
  });

  it('never reports a narrower interval than the exact one for very large σ', () => {
    // σ just above the summation limit: compare with a direct sum done here.
    const sigma = 70_000;
    const approx = Number(gaussianHalfWidthUnits(sigma * sigma, 0.95));
    const twoS2 = 2 * sigma * sigma;
    const z = sigma * Math.sqrt(2 * Math.PI);
    let c = 1 / z;
    let h = 0;
    while (c < 0.95) {
      h++;
      c += (2 * Math.exp(-(h * h) / twoS2)) / z;
    }
    expect(approx - h).to.be.within(0, 1);
  });

  it('marks the delta-method AVG interval approximate', () => {
    const a = averageAccuracy({ sum: 1000, count: 10, sumStddev: 20, countStddev: 2, confidence: 0.95 });
    expect(a.approximate).to.equal(true);
    // (20² + 100²·2²)^(1/2) / 10 = √40400 / 10
    expect(a.stddev).to.be.closeTo(Math.sqrt(40_400) / 10, 1e-12);
    expect(a.halfWidth).to.be.closeTo(1.959963984540054 * a.stddev, 1e-9);
  });

  it('inverts Laplace accuracy: the ε found gives the half-width, a slightly smaller one does not', () => {
    const s = integerSensitivity(1n);
    for (const [hw, c] of [
      [5.55, 0.95],
      [1, 0.9],
      [100, 0.99],
    ] as const) {
      const eps = epsilonForHalfWidth(s, hw, c);
      expect(noiseAccuracy(laplaceNoise(s, eps), c).halfWidth).to.be.at.most(hw);
      expect(noiseAccuracy(laplaceNoise(s, eps * 0.999), c).halfWidth).to.be.greaterThan(hw);
    }
    const g = grid(0.5);
    const eps = epsilonForHalfWidth(integerSensitivity(40n), 12.25, 0.95, g);
    expect(noiseAccuracy(laplaceNoise(integerSensitivity(40n), eps), 0.95, g).halfWidth).to.be.at.most(12.25);
  });

  it('inverts Gaussian accuracy through ρ', () => {
    const s = integerSensitivity(3n);
    const rho = rhoForHalfWidth(s, 20, 0.95);
    expect(noiseAccuracy(gaussianNoise(s, rho), 0.95).halfWidth).to.be.at.most(20);
    expect(noiseAccuracy(gaussianNoise(s, rho * 0.999), 0.95).halfWidth).to.be.greaterThan(20);
    expect(toNumber(gaussianNoise(s, rho).sigma2)).to.be.closeTo(9 / (2 * rho), 1e-6);
  });
});
