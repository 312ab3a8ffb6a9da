import { expect } from 'chai';
import { DpParameterError } from '../../src/dp/checks.ts';
import { fromGridUnits, grid, maxAbsGridUnits, toGridUnits } from '../../src/dp/grid.ts';
import { laplaceNoise } from '../../src/dp/calibrate.ts';
import { releaseReal } from '../../src/dp/mechanisms.ts';
import { insecureSeededRandomSource } from '../../src/dp/random.ts';
import { integerSensitivity } from '../../src/dp/sensitivity.ts';

describe('granularity grid', () => {
  it('maps values to grid units exactly and back to the nearest double of the grid point', () => {
    const cents = grid(0.01);
    expect(toGridUnits(0.07, cents)).to.equal(7n);
    expect(fromGridUnits(7n, cents)).to.equal(0.07); // not 7 × 0.01 = 0.07000000000000001
    expect(fromGridUnits(30n, grid(0.01))).to.equal(0.3);
    expect(toGridUnits(1234.565, cents)).to.equal(123457n); // the decimal 1234.565 rounds half up
    expect(toGridUnits(-2.5, grid(1))).to.equal(-3n); // ties away from zero
    expect(toGridUnits(0.3, grid(0.25))).to.equal(1n);
    expect(fromGridUnits(5n, grid(0.25))).to.equal(1.25);
    expect(fromGridUnits(3n, grid(5))).to.equal(15);
    expect(fromGridUnits(3n, grid(1e-7))).to.equal(3e-7);
  });

  it('saturates instead of overflowing to Infinity', () => {
    expect(fromGridUnits(10n ** 400n, grid(1))).to.equal(Number.MAX_VALUE);
    expect(fromGridUnits(-(10n ** 400n), grid(1))).to.equal(-Number.MAX_VALUE);
  });

  it('bounds |rounded value| by ⌈max(|lower|, |upper|)/g⌉', () => {
    expect(maxAbsGridUnits([0, 5000], grid(0.01))).to.equal(500_000n);
    expect(maxAbsGridUnits([-3.3, 2], grid(0.5))).to.equal(7n);
    expect(Number(toGridUnits(-3.3, grid(0.5)))).to.be.at.least(-7);
  });

  it('refuses a granularity that is not a finite positive number', () => {
    for (const g of [0, -1, Number.NaN, Infinity]) expect(() => grid(g)).to.throw(DpParameterError);
  });

  it('releases a clamped real value on its grid', () => {
    const g = grid(0.01);
    const noise = laplaceNoise(integerSensitivity(maxAbsGridUnits([0, 10], g)), 1);
    const x = releaseReal(1e9, g, noise, insecureSeededRandomSource('clamp'), [0, 10]);
    expect(x).to.be.below(100); // clamped to 10 before noise (scale 10.00)
    expect(fromGridUnits(toGridUnits(x, g), g)).to.equal(x);
  });
});
