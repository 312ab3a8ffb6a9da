import { expect } from 'chai';
import { sampleDiscreteLaplace } from '../../src/dp/discrete-laplace.ts';
import {
  CryptoRandomSource,
  type RandomSource,
  createRandomSource,
  cryptoRandomSource,
  insecureSeededRandomSource,
} from '../../src/dp/random.ts';
import { rational } from '../../src/dp/rational.ts';
import { chiSquareCategories } from './support/stats.ts';

const ALPHA = 1e-6;

function binCounts(n: number, bins: number, draw: () => number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) counts[draw()]! += 1;
  return counts;
}

describe('random sources', () => {
  it('uses node:crypto when no noise seed is configured', () => {
    const rng = createRandomSource();
    expect(rng).to.be.instanceOf(CryptoRandomSource);
    expect(rng.kind).to.equal('crypto');
    expect(createRandomSource(undefined).kind).to.equal('crypto');
  });

  it('uses the seeded source only when a seed is given, and says so', () => {
    expect(createRandomSource('demo').kind).to.equal('seeded');
  });

  it('reproduces the same noise from the same seed, and different noise from another seed', () => {
    const run = (rng: RandomSource): string =>
      Array.from({ length: 200 }, () => sampleDiscreteLaplace(rational(7n, 2n), rng)).join(',');
    expect(run(insecureSeededRandomSource('s1'))).to.equal(run(insecureSeededRandomSource('s1')));
    expect(run(insecureSeededRandomSource('s1'))).not.to.equal(run(insecureSeededRandomSource('s2')));
  });

  it('does not repeat itself across two crypto sources', () => {
    const a = cryptoRandomSource();
    const b = cryptoRandomSource();
    const xs = Array.from({ length: 8 }, () => a.nextUint32());
    const ys = Array.from({ length: 8 }, () => b.nextUint32());
    expect(xs).not.to.deep.equal(ys);
  });

  it('draws uniform integers in [0, n) without modulo bias', () => {
    const rng = cryptoRandomSource();
    const n = 100_000;
    // 3 does not divide 2^32: a modulo reduction would be biased (invisibly at this n, but the
    // range bins below would see it for n close to 2^32).
    expect(chiSquareCategories(binCounts(n, 3, () => rng.uniformInt(3)), [1 / 3, 1 / 3, 1 / 3], n).pValue).to.be.greaterThan(ALPHA);
    const big = Math.floor((2 ** 32 * 2) / 3);
    const halves = binCounts(n, 2, () => (rng.uniformInt(big) < big / 2 ? 0 : 1));
    expect(chiSquareCategories(halves, [0.5, 0.5], n).pValue).to.be.greaterThan(ALPHA);
  });

  it('detects (positive control) the modulo bias of word % n for n = ⌊2^33/3⌋', () => {
    const rng = cryptoRandomSource();
    const n = 100_000;
    const big = Math.floor((2 ** 32 * 2) / 3);
    const halves = binCounts(n, 2, () => (rng.nextUint32() % big < big / 2 ? 0 : 1));
    expect(chiSquareCategories(halves, [0.5, 0.5], n).pValue).to.be.lessThan(ALPHA);
  });

  it('draws uniform integers above 2^32 and uniform bigints above 2^53', () => {
    const rng = insecureSeededRandomSource('wide');
    const n = 50_000;
    const m = 3 * 2 ** 40 + 7;
    const tenths = binCounts(n, 10, () => Math.floor((rng.uniformInt(m) / m) * 10));
    expect(chiSquareCategories(tenths, new Array(10).fill(0.1), n).pValue).to.be.greaterThan(ALPHA);
    const M = 3n * (1n << 90n) + 11n;
    const tenthsBig = binCounts(n, 10, () => Number((rng.uniformBigInt(M) * 10n) / M));
    expect(chiSquareCategories(tenthsBig, new Array(10).fill(0.1), n).pValue).to.be.greaterThan(ALPHA);
    for (let i = 0; i < 1000; i++) {
      const x = rng.uniformBigInt(M);
      expect(x >= 0n && x < M).to.equal(true);
    }
  });

  it('returns fractions in [0, 1) on the 2^-53 grid', () => {
    const rng = cryptoRandomSource();
    for (let i = 0; i < 10_000; i++) {
      const u = rng.uniformFraction();
      expect(u >= 0 && u < 1).to.equal(true);
      expect(Number.isInteger(u * 2 ** 53)).to.equal(true);
    }
  });

  it('rejects n outside the supported range', () => {
    const rng = cryptoRandomSource();
    expect(() => rng.uniformInt(0)).to.throw(RangeError);
    expect(() => rng.uniformInt(2 ** 53)).to.throw(RangeError);
    expect(() => rng.uniformBigInt(0n)).to.throw(RangeError);
    expect(() => insecureSeededRandomSource('')).to.throw(RangeError);
  });
});
