/**
 * Goodness of fit of the exact samplers against their exact pmfs (χ², α = 1e-6, ≥ 100 000 draws),
 * each with a positive control: the same test must reject a sampler whose scale is off by 30%.
 */
import { expect } from 'chai';
import { bernoulliExpNeg } from '../../src/dp/bernoulli.ts';
import { discreteGaussianPmf, sampleDiscreteGaussian } from '../../src/dp/discrete-gaussian.ts';
import { discreteLaplacePmf, sampleDiscreteLaplace } from '../../src/dp/discrete-laplace.ts';
import { type RandomSource, insecureSeededRandomSource } from '../../src/dp/random.ts';
import { type Rational, mul, rational, roundUp, toNumber } from '../../src/dp/rational.ts';
import { binomialTestP, chiSquareIntegers, histogram } from './support/stats.ts';

const ALPHA = 1e-6;
const N = 100_000;
const OFF_BY_30_PERCENT = rational(13n, 10n);

function draw(n: number, f: () => bigint): bigint[] {
  const out = new Array<bigint>(n);
  for (let i = 0; i < n; i++) out[i] = f();
  return out;
}

function bernoulliFrequency(rng: RandomSource, gamma: Rational, n: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (bernoulliExpNeg(rng, gamma)) k++;
  return k;
}

describe('exact samplers', () => {
  describe('Bernoulli(exp(−γ))', () => {
    const cases: [string, Rational][] = [
      ['γ = 0', rational(0n)],
      ['γ = 1/3', rational(1n, 3n)],
      ['γ = 1', rational(1n)],
      ['γ = 7/3', rational(7n, 3n)],
      ['γ = 4', rational(4n)],
      ['γ with a 100-bit denominator (BigInt path)', rational((1n << 100n) + 12345n, 1n << 100n)],
    ];
    for (const [name, gamma] of cases) {
      it(`matches exp(−γ) for ${name}`, () => {
        const rng = insecureSeededRandomSource(`bern-${name}`);
        const p = Math.exp(-toNumber(gamma));
        const k = bernoulliFrequency(rng, gamma, N);
        if (p === 1) expect(k).to.equal(N);
        else expect(binomialTestP(k, N, p)).to.be.greaterThan(ALPHA);
      });
    }

    it('rejects (positive control) a Bernoulli whose γ is 30% too large', () => {
      const rng = insecureSeededRandomSource('bern-control');
      const gamma = rational(7n, 3n);
      const k = bernoulliFrequency(rng, mul(gamma, OFF_BY_30_PERCENT), N);
      expect(binomialTestP(k, N, Math.exp(-7 / 3))).to.be.lessThan(ALPHA);
    });
  });

  describe('discrete Laplace (CKS Algorithm 2)', () => {
    const scales: [string, Rational][] = [
      ['1', rational(1n)],
      ['10/3', rational(10n, 3n)],
      ['10', rational(10n)],
      ['0.4 (scale below 1)', rational(2n, 5n)],
      ['≈2.5 with 45-bit parts (BigInt path)', rational((5n << 44n) + 1n, 1n << 45n)],
    ];
    for (const [name, scale] of scales) {
      it(`fits the pmf ∝ exp(−|x|/t) for t = ${name}`, () => {
        const rng = insecureSeededRandomSource(`lap-${name}`);
        const h = histogram(draw(N, () => sampleDiscreteLaplace(scale, rng)));
        const r = chiSquareIntegers(h, N, (x) => discreteLaplacePmf(x, scale));
        expect(r.bins).to.be.greaterThan(2);
        expect(r.pValue, `χ²=${r.statistic.toFixed(1)} df=${r.df}`).to.be.greaterThan(ALPHA);
      });
    }

    it('rejects (positive control) a discrete Laplace whose scale is 30% too large', () => {
      const rng = insecureSeededRandomSource('lap-control');
      const scale = rational(10n, 3n);
      const h = histogram(draw(N, () => sampleDiscreteLaplace(mul(scale, OFF_BY_30_PERCENT), rng)));
      expect(chiSquareIntegers(h, N, (x) => discreteLaplacePmf(x, scale)).pValue).to.be.lessThan(ALPHA);
    });

    it('is symmetric and never returns −0 twice as often as +0 (sign handling)', () => {
      const rng = insecureSeededRandomSource('lap-sign');
      const h = histogram(draw(N, () => sampleDiscreteLaplace(rational(1n, 2n), rng)));
      const p0 = discreteLaplacePmf(0, rational(1n, 2n));
      expect(binomialTestP(h.get(0) ?? 0, N, p0)).to.be.greaterThan(ALPHA);
    });
  });

  describe('discrete Gaussian (CKS Algorithm 3)', () => {
    const variances: [string, Rational][] = [
      ['σ² = 1', rational(1n)],
      ['σ² = 0.3 (σ below 1)', rational(3n, 10n)],
      ['σ² = 1/(2·0.0148) rounded to 40 bits', roundUp(rational(10000n, 296n))],
      ['σ² = 400', rational(400n)],
    ];
    for (const [name, sigma2] of variances) {
      it(`fits the pmf ∝ exp(−x²/(2σ²)) for ${name}`, () => {
        const rng = insecureSeededRandomSource(`gauss-${name}`);
        const h = histogram(draw(N, () => sampleDiscreteGaussian(sigma2, rng)));
        const r = chiSquareIntegers(h, N, (x) => discreteGaussianPmf(x, sigma2));
        expect(r.bins).to.be.greaterThan(2);
        expect(r.pValue, `χ²=${r.statistic.toFixed(1)} df=${r.df}`).to.be.greaterThan(ALPHA);
      });
    }

    it('rejects (positive control) a discrete Gaussian whose σ is 30% too large', () => {
      const rng = insecureSeededRandomSource('gauss-control');
      const sigma2 = rational(25n);
      const wrong = mul(sigma2, mul(OFF_BY_30_PERCENT, OFF_BY_30_PERCENT));
      const h = histogram(draw(N, () => sampleDiscreteGaussian(wrong, rng)));
      expect(chiSquareIntegers(h, N, (x) => discreteGaussianPmf(x, sigma2)).pValue).to.be.lessThan(ALPHA);
    });
  });
});
