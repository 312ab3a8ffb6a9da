import { expect } from 'chai';
import { binomialLowerTail, binomialTestP, chiSquareSurvival, clopperPearson, lnGamma } from './support/stats.ts';

/** The tests' own statistics must be right, or a broken sampler could pass. */
describe('dp test statistics', () => {
  it('computes log-gamma, χ² and binomial tails that match reference values', () => {
    expect(lnGamma(10)).to.be.closeTo(Math.log(362880), 1e-10);
    expect(chiSquareSurvival(3.841458820694124, 1)).to.be.closeTo(0.05, 1e-9);
    expect(chiSquareSurvival(18.307038053275146, 10)).to.be.closeTo(0.05, 1e-9);
    expect(chiSquareSurvival(150, 100)).to.be.closeTo(0.000895, 2e-5);
    // Binomial(20, 0.3): P[X ≤ 3] = 0.10708680450 (exact sum)
    let exact = 0;
    for (let k = 0; k <= 3; k++) exact += Math.exp(lnGamma(21) - lnGamma(k + 1) - lnGamma(21 - k)) * 0.3 ** k * 0.7 ** (20 - k);
    expect(binomialLowerTail(3, 20, 0.3)).to.be.closeTo(exact, 1e-10);
    expect(binomialTestP(5000, 10000, 0.5)).to.be.greaterThan(0.9);
    expect(binomialTestP(5300, 10000, 0.5)).to.be.lessThan(1e-6);
  });

  it('gives Clopper–Pearson bounds that bracket the estimate and shrink with n', () => {
    const a = clopperPearson(500, 1000, 1e-6);
    const b = clopperPearson(50_000, 100_000, 1e-6);
    expect(a.lower).to.be.lessThan(0.5).and.greaterThan(0.4);
    expect(a.upper).to.be.greaterThan(0.5).and.lessThan(0.6);
    expect(b.upper - b.lower).to.be.lessThan((a.upper - a.lower) / 5);
    // Known value: k = 0 of n = 100 at α = 0.05 gives upper = 1 − 0.05^(1/100).
    expect(clopperPearson(0, 100, 0.05).upper).to.be.closeTo(1 - 0.05 ** (1 / 100), 1e-9);
  });
});
