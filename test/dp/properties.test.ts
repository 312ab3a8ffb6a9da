/** Property tests (fast-check): grid outputs, finiteness for every valid input, validation of invalid ones. */
import { expect } from 'chai';
import { toDpqError } from '../../src/http/error-handler.ts';
import fc from 'fast-check';
import { noiseAccuracy } from '../../src/dp/accuracy.ts';
import { splitBudget } from '../../src/dp/budget-split.ts';
import { calibrateNoise, gaussianNoise, laplaceNoise } from '../../src/dp/calibrate.ts';
import { DpParameterError } from '../../src/dp/checks.ts';
import { classicalGaussianSigma, epsilonToZcdp, zcdpToEpsilon } from '../../src/dp/conversion.ts';
import { fromGridUnits, grid, maxAbsGridUnits, toGridUnits } from '../../src/dp/grid.ts';
import { releaseInteger, releaseReal } from '../../src/dp/mechanisms.ts';
import { partitionThreshold } from '../../src/dp/partition-selection.ts';
import { insecureSeededRandomSource } from '../../src/dp/random.ts';
import { integerSensitivity } from '../../src/dp/sensitivity.ts';
import { AVG, COUNT, COUNT_DISTINCT, measurements, QUANTILE, SUM, VARIANCE } from './support/measurements.ts';

const rng = insecureSeededRandomSource('properties');
const epsilon = fc.double({ min: 0.001, max: 20, noNaN: true });
const delta = fc.double({ min: 1e-12, max: 0.5, noNaN: true });
const rho = fc.double({ min: 1e-6, max: 50, noNaN: true });
const confidence = fc.double({ min: 0.01, max: 0.999999, noNaN: true });
const granularity = fc.constantFrom(0.001, 0.01, 0.1, 0.25, 0.5, 1, 5, 100, 1e-7);
const mechanism = fc.constantFrom('laplace' as const, 'gaussian' as const);

const badEpsilon = fc.constantFrom(0, -0, -1, -1e-9, Number.NaN, Infinity, -Infinity);
const badDelta = fc.constantFrom(-1e-9, -1, 1, 1.5, Number.NaN, Infinity, -Infinity);
const badConfidence = fc.constantFrom(0, 1, -0.5, 1.5, Number.NaN, Infinity);

const throwsParam = (f: () => unknown, param: string): boolean => {
  try {
    f();
    return false;
  } catch (e: unknown) {
    return e instanceof DpParameterError && e.param === param;
  }
};

describe('dp properties', () => {
  it('releases real values on the granularity grid, always finite', () => {
    fc.assert(
      fc.property(granularity, fc.double({ min: -1e6, max: 1e6, noNaN: true }), epsilon, mechanism, (g0, value, eps, mech) => {
        const g = grid(g0);
        const bounds = [-1e6, 1e6] as const;
        const s = integerSensitivity(3n * maxAbsGridUnits(bounds, g));
        const noise = mech === 'laplace' ? laplaceNoise(s, eps) : gaussianNoise(s, eps);
        const out = releaseReal(value, g, noise, rng, bounds);
        return Number.isFinite(out) && fromGridUnits(toGridUnits(out, g), g) === out;
      }),
      { numRuns: 300 },
    );
  });

  it('produces finite noise, accuracy and conversions for every valid input', () => {
    fc.assert(
      fc.property(epsilon, delta, rho, confidence, fc.bigInt({ min: 1n, max: 10n ** 12n }), (eps, d, r, c, sens) => {
        const s = integerSensitivity(sens);
        const lap = laplaceNoise(s, eps);
        const gau = gaussianNoise(s, r);
        const values = [
          zcdpToEpsilon(r, d),
          epsilonToZcdp(eps, d),
          classicalGaussianSigma(1, eps, d),
          noiseAccuracy(lap, c).halfWidth,
          noiseAccuracy(lap, c).stddev,
          noiseAccuracy(gau, c).halfWidth,
          noiseAccuracy(gau, c).stddev,
          Number(partitionThreshold({ epsilon: eps, delta: d, maxGroupsPerUnit: 3 }).threshold),
          Number(releaseInteger(0n, lap, rng)),
        ];
        return values.every(Number.isFinite);
      }),
      { numRuns: 200 },
    );
  });

  it('splits any valid budget into finite, positive shares', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 10, noNaN: true }),
        fc.double({ min: 2e-12, max: 0.5, noNaN: true }), // δ = 1e-12 cannot be halved: refused (budget-split test)
        mechanism,
        fc.array(fc.constantFrom(COUNT, COUNT_DISTINCT, SUM, AVG, VARIANCE, QUANTILE), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (eps, d, mech, aggregates, selection) => {
          const s = splitBudget({ mechanism: mech, epsilon: eps, delta: d, measurements: measurements(...aggregates), partitionSelection: selection });
          return s.measurements.every((m) => {
            if (m.mechanism === 'exponential') return m.epsilon > 0 && Number.isFinite(m.epsilon);
            const noise = calibrateNoise(integerSensitivity(5n), m);
            return Number.isFinite(noiseAccuracy(noise, 0.95).halfWidth);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses invalid ε everywhere with the validation error', () => {
    fc.assert(
      fc.property(badEpsilon, (eps) => {
        const s = integerSensitivity(1n);
        return (
          throwsParam(() => laplaceNoise(s, eps), 'epsilon') &&
          throwsParam(() => splitBudget({ mechanism: 'laplace', epsilon: eps, delta: 0, measurements: measurements(COUNT), partitionSelection: false }), 'epsilon') &&
          throwsParam(() => epsilonToZcdp(eps, 1e-7), 'epsilon') &&
          throwsParam(() => classicalGaussianSigma(1, eps, 1e-7), 'epsilon') &&
          throwsParam(() => partitionThreshold({ epsilon: eps, delta: 1e-7, maxGroupsPerUnit: 1 }), 'epsilon')
        );
      }),
    );
  });

  it('refuses invalid δ (negative, non-finite, ≥ 1) with the validation error', () => {
    fc.assert(
      fc.property(badDelta, (d) => {
        return (
          throwsParam(() => splitBudget({ mechanism: 'laplace', epsilon: 1, delta: d, measurements: measurements(COUNT), partitionSelection: false }), 'delta') &&
          throwsParam(() => zcdpToEpsilon(0.1, d), 'delta') &&
          throwsParam(() => partitionThreshold({ epsilon: 1, delta: d, maxGroupsPerUnit: 1 }), 'delta')
        );
      }),
    );
  });

  it('refuses invalid ρ and confidence with the validation error', () => {
    fc.assert(
      fc.property(badEpsilon, badConfidence, (r, c) => {
        return (
          throwsParam(() => gaussianNoise(integerSensitivity(1n), r), 'rho') &&
          throwsParam(() => zcdpToEpsilon(r, 1e-7), 'rho') &&
          throwsParam(() => noiseAccuracy(laplaceNoise(integerSensitivity(1n), 1), c), 'confidence')
        );
      }),
    );
  });

  it('is mapped by the service to INVALID_REQUEST with the parameter named', () => {
    try {
      laplaceNoise(integerSensitivity(1n), Number.NaN);
      expect.fail('should throw');
    } catch (e: unknown) {
      expect(e).to.be.instanceOf(DpParameterError);
      const mapped = toDpqError(e);
      expect(mapped.status).to.equal(400);
      expect(mapped.code).to.equal('INVALID_REQUEST');
      expect(mapped.details).to.deep.equal({ field: 'epsilon' });
    }
  });
});
