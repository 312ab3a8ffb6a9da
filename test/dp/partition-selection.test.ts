import { expect } from 'chai';
import { DpParameterError } from '../../src/dp/checks.ts';
import { discreteLaplaceUpperTail } from '../../src/dp/discrete-laplace.ts';
import { partitionThreshold, selectPartition } from '../../src/dp/partition-selection.ts';
import { insecureSeededRandomSource } from '../../src/dp/random.ts';
import { toNumber } from '../../src/dp/rational.ts';
import { binomialTestP } from './support/stats.ts';

/** P[1 + Z ≥ τ] for the threshold's noise: the chance a single-unit group is released. */
function passProbability(count: number, tau: bigint, scale: number): number {
  const m = Number(tau) - count; // need Z ≥ m
  return m >= 1 ? discreteLaplaceUpperTail(m, scale) : 1 - discreteLaplaceUpperTail(1 - m, scale);
}

describe('partition selection', () => {
  const cases = [
    { epsilon: 0.25, delta: 5e-8, maxGroupsPerUnit: 4 },
    { epsilon: 1, delta: 1e-6, maxGroupsPerUnit: 1 },
    { epsilon: 0.05, delta: 1e-10, maxGroupsPerUnit: 20 },
  ];
  for (const params of cases) {
    it(`sets the smallest threshold whose single-unit pass rate is ≤ δ_adj (ε=${params.epsilon}, δ=${params.delta}, k=${params.maxGroupsPerUnit})`, () => {
      const t = partitionThreshold(params);
      const scale = toNumber(t.noise.scale);
      expect(scale).to.be.closeTo(params.maxGroupsPerUnit / params.epsilon, 1e-9);
      const adjusted = 1 - (1 - params.delta) ** (1 / params.maxGroupsPerUnit);
      expect(passProbability(1, t.threshold, scale)).to.be.at.most(adjusted);
      expect(passProbability(1, t.threshold - 1n, scale)).to.be.greaterThan(adjusted * (1 - 1e-6));
      // k independent single-unit groups: at most δ in all
      expect(1 - (1 - passProbability(1, t.threshold, scale)) ** params.maxGroupsPerUnit).to.be.at.most(params.delta);
    });
  }

  it('matches the continuous-Laplace threshold of Google’s library to within one', () => {
    const t = partitionThreshold({ epsilon: 0.5, delta: 1e-6, maxGroupsPerUnit: 2 });
    const b = 2 / 0.5;
    const adjusted = 1 - (1 - 1e-6) ** (1 / 2);
    const google = 1 - b * Math.log(2 * adjusted);
    expect(Number(t.threshold)).to.be.within(Math.floor(google) - 1, Math.ceil(google) + 1);
  });

  it('releases single-unit groups at the exact pass rate (large δ, so it can be measured)', () => {
    const params = { epsilon: 1, delta: 0.05, maxGroupsPerUnit: 1 };
    const t = partitionThreshold(params);
    const p = passProbability(1, t.threshold, toNumber(t.noise.scale));
    const rng = insecureSeededRandomSource('selection');
    const n = 100_000;
    let kept = 0;
    for (let i = 0; i < n; i++) if (selectPartition(1, t, rng)) kept++;
    expect(p).to.be.at.most(0.05);
    expect(binomialTestP(kept, n, p)).to.be.greaterThan(1e-6);
  });

  it('keeps large groups and drops empty ones, whatever the number of keys', () => {
    const rng = insecureSeededRandomSource('selection-large');
    const t = partitionThreshold({ epsilon: 0.5, delta: 1e-7, maxGroupsPerUnit: 1 });
    for (let i = 0; i < 1000; i++) {
      expect(selectPartition(10_000n, t, rng)).to.equal(true);
      expect(selectPartition(0, t, rng)).to.equal(false);
    }
  });

  it('computes the threshold from the parameters when given them directly', () => {
    const rng = insecureSeededRandomSource('selection-direct');
    expect(selectPartition(1_000_000, { epsilon: 1, delta: 1e-7, maxGroupsPerUnit: 3 }, rng)).to.equal(true);
  });

  it('refuses δ = 0, bad ε and bad k', () => {
    expect(() => partitionThreshold({ epsilon: 1, delta: 0, maxGroupsPerUnit: 1 })).to.throw(DpParameterError);
    expect(() => partitionThreshold({ epsilon: 0, delta: 1e-7, maxGroupsPerUnit: 1 })).to.throw(DpParameterError);
    expect(() => partitionThreshold({ epsilon: 1, delta: 1e-7, maxGroupsPerUnit: 0 })).to.throw(DpParameterError);
    expect(() => selectPartition(-1, { epsilon: 1, delta: 1e-7, maxGroupsPerUnit: 1 }, insecureSeededRandomSource('x'))).to.throw(
      DpParameterError,
    );
  });
});
