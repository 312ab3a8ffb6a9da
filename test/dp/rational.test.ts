import { expect } from 'chai';
import { compare, isqrt, rational, rationalFromNumber, roundUp, scaleToRational, toNumber } from '../../src/dp/rational.ts';

describe('rationals', () => {
  it('reads a number as the decimal it prints as', () => {
    expect(rationalFromNumber(0.1)).to.deep.equal({ num: 1n, den: 10n });
    expect(rationalFromNumber(1e-7)).to.deep.equal({ num: 1n, den: 10_000_000n });
    expect(rationalFromNumber(2.5)).to.deep.equal({ num: 5n, den: 2n });
    expect(rationalFromNumber(-1.5e21)).to.deep.equal({ num: -1_500_000_000_000_000_000_000n, den: 1n });
  });

  it('rounds a parameter up to 40 significant bits, keeping short ones exact', () => {
    expect(roundUp(rational(10n, 3n))).to.deep.equal(rational(10n, 3n));
    const long = rational(10n ** 20n + 1n, 3n * 10n ** 19n);
    const r = roundUp(long);
    expect(compare(r, long)).to.equal(1);
    expect(r.num < 1n << 40n || r.den === 1n).to.equal(true);
    expect(toNumber(r) / toNumber(long) - 1).to.be.lessThan(2 ** -39);
  });

  it('turns a float scale into a rational no smaller than it', () => {
    for (const x of [Math.PI, 1e-9, 12345.6789012345, 2 ** 60 + 7]) {
      const r = scaleToRational(x);
      expect(compare(r, rationalFromNumber(x))).to.be.at.least(0);
      expect(toNumber(r) / x - 1).to.be.at.most(2 ** -39 * (1 + 1e-9));
    }
    expect(() => scaleToRational(0)).to.throw(RangeError);
    expect(() => scaleToRational(Number.NaN)).to.throw(RangeError);
  });

  it('computes exact integer square roots', () => {
    for (const n of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, (1n << 80n) - 1n, 1n << 80n, 10n ** 40n + 12345n]) {
      const s = isqrt(n);
      expect(s * s <= n && (s + 1n) * (s + 1n) > n, String(n)).to.equal(true);
    }
  });
});
