import { expect } from 'chai';
import { noiseAccuracy } from '../../src/dp/accuracy.ts';
import { splitBudget } from '../../src/dp/budget-split.ts';
import { calibrateNoise } from '../../src/dp/calibrate.ts';
import { DpParameterError } from '../../src/dp/checks.ts';
import { epsilonForQueryHalfWidth } from '../../src/dp/estimate.ts';
import { fromGridUnits, grid, toGridUnits } from '../../src/dp/grid.ts';
import { insecureSeededRandomSource } from '../../src/dp/random.ts';
import { measure } from '../../src/dp/measure.ts';
import { integerSensitivity } from '../../src/dp/sensitivity.ts';
import { AVG, COUNT, QUANTILE, SUM, measurements } from './support/measurements.ts';

describe('measure and estimate', () => {
  it('releases a noisy count with the accuracy of the noise actually used', () => {
    const split = splitBudget({ mechanism: 'laplace', epsilon: 0.5, delta: 0, measurements: measurements(COUNT), partitionSelection: false });
    const share = split.measurements[0]!;
    if (share.mechanism === 'exponential') throw new Error('unexpected');
    const r = measure({ value: 10_431n, sensitivity: integerSensitivity(1n), share, confidence: 0.95 }, insecureSeededRandomSource('m'));
    expect(r.value).to.equal(Number(r.units));
    expect(r.accuracy).to.deep.equal(noiseAccuracy(r.noise, 0.95));
    expect(Math.abs(r.value - 10_431)).to.be.below(100);
  });

  it('releases a Gaussian sum on the column grid', () => {
    const g = grid(0.01);
    const split = splitBudget({ mechanism: 'gaussian', epsilon: 1, delta: 1e-7, measurements: measurements(SUM), partitionSelection: false });
    const share = split.measurements[0]!;
    if (share.mechanism === 'exponential') throw new Error('unexpected');
    const sensitivity = integerSensitivity(20n * 500_000n) // 20 rows of at most 5000.00;
    const r = measure({ value: 123_456_789n, sensitivity, share, grid: g, confidence: 0.9 }, insecureSeededRandomSource('g'));
    expect(fromGridUnits(toGridUnits(r.value, g), g)).to.equal(r.value);
    expect(r.noise.mechanism).to.equal('gaussian');
    expect(r.accuracy.confidence).to.equal(0.9);
  });

  it('finds the smallest query ε giving a column the requested half-width (Laplace, with a share)', () => {
    const request = { mechanism: 'laplace' as const, delta: 0, measurements: measurements(COUNT, AVG), partitionSelection: false };
    const sensitivity = integerSensitivity(1n);
    const eps = epsilonForQueryHalfWidth({ request: { ...request, measurements: [...request.measurements] }, aggregate: 0, sensitivity, halfWidth: 5.55, confidence: 0.95 });
    const at = (e: number): number => {
      const m = splitBudget({ ...request, measurements: [...request.measurements], epsilon: e }).measurements[0]!;
      if (m.mechanism === 'exponential') throw new Error('unexpected');
      return noiseAccuracy(calibrateNoise(sensitivity, m), 0.95).halfWidth;
    };
    expect(at(eps)).to.be.at.most(5.55);
    expect(at(eps - 1e-6)).to.be.greaterThan(5.55);
    // three measurements share ε: about three times the single-measurement ε (0.538)
    expect(eps).to.be.closeTo(3 * 0.5382, 0.01);
  });

  it('answers for Gaussian queries and the sum part of an AVG', () => {
    const g = grid(0.01);
    const sensitivity = integerSensitivity(20n * 500_000n) // 20 rows of at most 5000.00;
    const eps = epsilonForQueryHalfWidth({
      request: { mechanism: 'gaussian', delta: 1e-7, measurements: measurements(AVG), partitionSelection: true },
      aggregate: 0,
      part: 'sum',
      sensitivity,
      grid: g,
      halfWidth: 500_000,
      confidence: 0.95,
    });
    const m = splitBudget({ mechanism: 'gaussian', epsilon: eps, delta: 1e-7, measurements: measurements(AVG), partitionSelection: true }).measurements[0]!;
    if (m.mechanism === 'exponential') throw new Error('unexpected');
    expect(noiseAccuracy(calibrateNoise(sensitivity, m), 0.95, g).halfWidth).to.be.at.most(500_000);
  });

  it('refuses quantiles and unreachable targets', () => {
    const sensitivity = integerSensitivity(1n);
    const request = { mechanism: 'laplace' as const, delta: 0, measurements: measurements(QUANTILE), partitionSelection: false };
    expect(() => epsilonForQueryHalfWidth({ request, aggregate: 0, sensitivity, halfWidth: 5, confidence: 0.95 })).to.throw(DpParameterError);
    expect(() =>
      epsilonForQueryHalfWidth({ request: { ...request, measurements: measurements(COUNT) }, aggregate: 0, sensitivity, halfWidth: 0.5, confidence: 0.999999, maxEpsilon: 2 }),
    ).to.throw(DpParameterError);
  });
});
