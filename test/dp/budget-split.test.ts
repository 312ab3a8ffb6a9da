import { expect } from 'chai';
import { compose } from '../../src/dp/accountant.ts';
import { splitBudget } from '../../src/dp/budget-split.ts';
import { DpParameterError } from '../../src/dp/checks.ts';
import { zcdpToEpsilon } from '../../src/dp/conversion.ts';
import { partitionThreshold } from '../../src/dp/partition-selection.ts';
import { deltaToPico, epsilonToMicro, picoToDelta, rhoToPico } from '../../src/dp/units.ts';
import { AVG, COUNT, COUNT_DISTINCT, QUANTILE, SUM, VARIANCE, measurements } from './support/measurements.ts';

const sumUnits = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

describe('budget split', () => {
  it('splits a Laplace query evenly over its measurements and charges no δ', () => {
    const s = splitBudget({ mechanism: 'laplace', epsilon: 1, delta: 1e-7, measurements: measurements(COUNT, AVG), partitionSelection: false });
    expect(s.measurements.map((m) => [m.aggregate, m.part])).to.deep.equal([
      [0, 'count'],
      [1, 'sum'],
      [1, 'count'],
    ]);
    expect(s.measurements.map((m) => epsilonToMicro(m.epsilon))).to.deep.equal([333_334, 333_333, 333_333]);
    expect(s.charge).to.deep.equal({ epsilon: 1, delta: 0 });
    expect(s.partitionSelection).to.equal(undefined);
  });

  it('makes the shares sum to the request exactly, for awkward ε', () => {
    for (const epsilon of [0.1, 0.3, 0.7, 1.234567, 2]) {
      const s = splitBudget({ mechanism: 'laplace', epsilon, delta: 1e-6, measurements: measurements(COUNT, SUM, VARIANCE, QUANTILE, COUNT_DISTINCT), partitionSelection: true });
      const parts = [...s.measurements.map((m) => epsilonToMicro(m.epsilon)), epsilonToMicro(s.partitionSelection!.epsilon)];
      expect(sumUnits(parts)).to.equal(epsilonToMicro(epsilon));
      const total = compose(s.events);
      expect(total.basicEpsilon).to.equal(epsilonToMicro(epsilon));
      expect(total.delta).to.equal(deltaToPico(1e-6));
    }
  });

  it('gives partition selection half of ε, not one share of four: the diagnosis example releases groups half as large', () => {
    // SELECT diagnosis, COUNT(*), AVG(cost) … GROUP BY diagnosis at ε 0.5: three measurements and a selection.
    const s = splitBudget({ mechanism: 'laplace', epsilon: 0.5, delta: 1e-7, measurements: measurements(COUNT, AVG), partitionSelection: true });
    expect(s.partitionSelection).to.deep.equal({ epsilon: 0.25, delta: 1e-7 });
    expect(s.measurements.map((m) => m.epsilon)).to.deep.equal([0.083334, 0.083333, 0.083333]);
    const threshold = (epsilon: number) => Number(partitionThreshold({ epsilon, delta: 1e-7, maxGroupsPerUnit: 4 }).threshold);
    const before = threshold(0.125); // one share of four
    const after = threshold(s.partitionSelection!.epsilon);
    expect(after).to.be.below(before * 0.51);
    expect(after).to.be.below(threshold(0.5) * 2.01); // all of ε would need half as many again
  });

  it('gives partition selection one share of ε and all of δ in a Laplace query', () => {
    const s = splitBudget({ mechanism: 'laplace', epsilon: 0.5, delta: 1e-7, measurements: measurements(COUNT), partitionSelection: true });
    expect(s.partitionSelection).to.deep.equal({ epsilon: 0.25, delta: 1e-7 });
    expect(s.measurements[0]!.epsilon).to.equal(0.25);
    expect(s.charge).to.deep.equal({ epsilon: 0.5, delta: 1e-7 });
  });

  it('keeps the requested measurements in order, and gives a quantile the exponential mechanism', () => {
    const s = splitBudget({
      mechanism: 'laplace',
      epsilon: 1.2,
      delta: 0,
      measurements: measurements(COUNT, COUNT_DISTINCT, SUM, AVG, VARIANCE, QUANTILE),
      partitionSelection: false,
    });
    expect(s.measurements.map((m) => m.part)).to.deep.equal([
      'count',
      'count_distinct',
      'sum',
      'sum',
      'count',
      'count',
      'sum',
      'sum_of_squares',
      'quantile',
    ]);
    expect(s.measurements.at(-1)!.mechanism).to.equal('exponential');
  });

  it('gives a Gaussian query the largest ρ whose conversion fits, split evenly and exactly', () => {
    const s = splitBudget({ mechanism: 'gaussian', epsilon: 1, delta: 1e-7, measurements: measurements(COUNT, SUM), partitionSelection: false });
    const rhos = s.measurements.map((m) => rhoToPico(m.rho));
    const event = s.events[0]!;
    expect(event.mechanism).to.equal('gaussian');
    expect(sumUnits(rhos)).to.equal(event.rho);
    expect(zcdpToEpsilon(event.rho / 1e12, 1e-7)).to.be.at.most(1);
    expect(zcdpToEpsilon(event.rho / 1e12, 1e-7)).to.be.closeTo(1, 1e-5);
    expect(s.charge).to.deep.equal({ epsilon: 1, delta: 1e-7 });
  });

  it('halves δ and ε for partition selection in a Gaussian query', () => {
    const s = splitBudget({ mechanism: 'gaussian', epsilon: 0.9, delta: 1e-7, measurements: measurements(AVG), partitionSelection: true });
    expect(s.partitionSelection).to.deep.equal({ epsilon: 0.45, delta: 5e-8 });
    const [gaussian, selection] = s.events;
    expect(gaussian).to.include({ mechanism: 'gaussian', epsilon: 450_000, delta: 50_000 });
    expect(selection).to.include({ mechanism: 'laplace', epsilon: 450_000, delta: 50_000 });
    expect(zcdpToEpsilon(gaussian!.rho / 1e12, picoToDelta(gaussian!.delta))).to.be.at.most(0.45);
    expect(compose(s.events).basicEpsilon).to.equal(900_000);
  });

  it('buys a quantile ε with ε²/8 ≤ ρ in a Gaussian query', () => {
    const s = splitBudget({ mechanism: 'gaussian', epsilon: 1, delta: 1e-6, measurements: measurements(QUANTILE, COUNT), partitionSelection: false });
    const q = s.measurements[0]!;
    expect(q.mechanism).to.equal('exponential');
    expect((q.epsilon * q.epsilon) / 8).to.be.at.most(q.rho);
    expect((q.epsilon + 2e-6) ** 2 / 8).to.be.greaterThan(q.rho);
  });

  it('refuses a query that needs δ without one', () => {
    expect(() => splitBudget({ mechanism: 'gaussian', epsilon: 1, delta: 0, measurements: measurements(COUNT), partitionSelection: false })).to.throw(
      DpParameterError,
    );
    expect(() => splitBudget({ mechanism: 'laplace', epsilon: 1, delta: 0, measurements: measurements(COUNT), partitionSelection: true })).to.throw(
      DpParameterError,
    );
  });

  it('refuses a δ too small to share with partition selection', () => {
    expect(() => splitBudget({ mechanism: 'gaussian', epsilon: 1, delta: 1e-12, measurements: measurements(COUNT), partitionSelection: true })).to.throw(
      DpParameterError,
    );
  });

  it('refuses an ε too small to give every measurement a unit', () => {
    expect(() => splitBudget({ mechanism: 'laplace', epsilon: 2e-6, delta: 0, measurements: measurements(VARIANCE), partitionSelection: false })).to.throw(
      DpParameterError,
    );
  });
});
