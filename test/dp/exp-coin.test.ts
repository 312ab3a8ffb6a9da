/**
 * The fixed-cost exact Bernoulli(exp(−γ)) coin behind the quantile sampler, and the sampler's
 * data-independent work: a draw consumes the same random words whatever the histogram.
 */
import { expect } from 'chai';
import { bernoulliExpNeg } from '../../src/dp/bernoulli.ts';
import { decideExpCoin, expCoin, expNegBounds, flipExpCoin } from '../../src/dp/exp-threshold.ts';
import { PROPOSALS_PER_BIN, quantileBin } from '../../src/dp/quantile.ts';
import { SeededRandomSource } from '../../src/dp/random.ts';
import { rationalFromNumber } from '../../src/dp/rational.ts';
import { binomialTestP } from './support/stats.ts';

/** The seeded source, counting the 32-bit words drawn (every other draw is made of them). */
class CountingSource extends SeededRandomSource {
  words = 0;
  override nextUint32(): number {
    this.words += 1;
    return super.nextUint32();
  }
}

describe('the quantile sampler runs in time independent of the data', () => {
  const params = { lower: 0, upper: 1, p: 0.5, epsilon: 1, maxRowsPerUnit: 1 };
  for (const bins of [1024, 10]) {
    it(`draws exactly the same random words for an empty, a concentrated and a spread histogram (${bins} bins)`, () => {
      const histograms = [
        new Array<number>(bins).fill(0),
        Array.from({ length: bins }, (_, i) => (i === bins - 3 ? 5_000 : 0)),
        Array.from({ length: bins }, (_, i) => (i * 7) % 5),
        Array.from({ length: bins }, (_, i) => (i === 0 ? 1_000_000 : 1)),
      ];
      const words = histograms.map((h) => {
        const rng = new CountingSource('words');
        for (let r = 0; r < 5; r++) quantileBin(h, params, rng);
        return rng.words;
      });
      // One word for the bin (a power of two, or rejection that does not depend on the data), one for the coin.
      if (bins === 1024) expect(words[0]).to.equal(5 * 2 * PROPOSALS_PER_BIN * bins);
      expect(new Set(words).size, JSON.stringify(words)).to.equal(1);
    });
  }

  it('(positive control) counts different words for a sampler that stops at its first accepted proposal', () => {
    const bins = 1024;
    const stopAtFirst = (h: readonly number[], rng: CountingSource): void => {
      const n = h.reduce((a, b) => a + b, 0);
      let start = 0;
      const dist = h.map((c) => {
        const d = n / 2 < start ? start - n / 2 : n / 2 > start + c ? n / 2 - start - c : 0;
        start += c;
        return BigInt(Math.round(2 * d));
      });
      for (;;) if (bernoulliExpNeg(rng, { num: dist[rng.uniformInt(bins)]!, den: 4n })) return;
    };
    const words = [new Array<number>(bins).fill(0), Array.from({ length: bins }, (_, i) => (i === 5 ? 5_000 : 0))].map((h) => {
      const rng = new CountingSource('control');
      for (let r = 0; r < 5; r++) stopAtFirst(h, rng);
      return rng.words;
    });
    expect(new Set(words).size).to.equal(2);
  });
});

describe('the exact exp(−γ) coin', () => {
  const N = 100_000;
  const frequency = (flip: () => boolean): number => {
    let k = 0;
    for (let i = 0; i < N; i++) if (flip()) k++;
    return k;
  };

  for (const g of [0, 0.3, 1, 2.5, 7]) {
    it(`comes up true with probability exp(−${g}) on the fast path and on the exact refinement (binomial, α = 1e-6)`, () => {
      const gamma = rationalFromNumber(g);
      const rng = new SeededRandomSource(`coin-${g}`);
      const coin = expCoin(gamma);
      const fast = frequency(() => flipExpCoin(rng, coin));
      expect(binomialTestP(fast, N, Math.exp(-g)), `${fast}/${N}`).to.be.greaterThan(1e-6);
      // A coin whose fast path can never decide: every flip goes through the exact refinement.
      const undecided = { gamma, low: 0, high: 2 ** 32 };
      const slow = frequency(() => decideExpCoin(rng, undecided, rng.nextUint32()));
      expect(binomialTestP(slow, N, Math.exp(-g)), `${slow}/${N}`).to.be.greaterThan(1e-6);
    });
  }

  it('rejects (positive control) a coin for γ = 1.05 tested against exp(−1)', () => {
    const rng = new SeededRandomSource('coin-control');
    const coin = expCoin(rationalFromNumber(1.05));
    const undecided = { gamma: rationalFromNumber(1.05), low: 0, high: 2 ** 32 };
    expect(binomialTestP(frequency(() => flipExpCoin(rng, coin)), N, Math.exp(-1))).to.be.lessThan(1e-6);
    expect(binomialTestP(frequency(() => decideExpCoin(rng, undecided, rng.nextUint32())), N, Math.exp(-1))).to.be.lessThan(1e-6);
  });

  it('brackets exp(−γ)·2^p within a few units at every precision', () => {
    for (const g of [0, 1e-9, 0.5, 1, 1.5, 3.25, 20, 63.9, 200]) {
      for (const p of [64, 128, 256]) {
        const [lo, hi] = expNegBounds(rationalFromNumber(g), p);
        expect(hi - lo <= 8n, `γ=${g} p=${p}: ${hi - lo}`).to.equal(true);
        // Compare at 2^-60 relative: Math.exp is good to far better than that.
        const scale = 2n ** BigInt(p - 60);
        const approx = Math.exp(-g) * 2 ** 60;
        if (approx > 1e6) {
          expect(Number(lo / scale) <= approx * (1 + 1e-12) && Number(hi / scale + 1n) >= approx * (1 - 1e-12), `γ=${g} p=${p}`).to.equal(true);
        }
      }
    }
  });
});
