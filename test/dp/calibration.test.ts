import { expect } from 'chai';
import { gaussianNoise, gaussianSigmaFor, laplaceNoise, laplaceScaleFor, rhoForGaussianSigma } from '../../src/dp/calibrate.ts';
import {
  classicalGaussianSigma,
  epsilonToZcdp,
  epsilonToZcdpBasic,
  zcdpDelta,
  zcdpToEpsilon,
  zcdpToEpsilonBasic,
} from '../../src/dp/conversion.ts';
import { compare, div, rational, rationalFromNumber, toNumber } from '../../src/dp/rational.ts';
import { integerSensitivity } from '../../src/dp/sensitivity.ts';

/**
 * An independent implementation of the CKS 2020 conversion (nested bisection over ε and α, as in
 * the authors' reference code) to check the closed-form optimum against.
 */
function referenceDelta(rho: number, eps: number): number {
  let amin = 1.0000001;
  let amax = (eps + 1) / (2 * rho) + 2;
  let alpha = NaN;
  while (amax - amin > 1e-12 * amax) {
    alpha = (amin + amax) / 2;
    if ((2 * alpha - 1) * rho - eps + Math.log1p(-1 / alpha) < 0) amin = alpha;
    else amax = alpha;
  }
  return Math.min(1, Math.exp((alpha - 1) * (alpha * rho - eps) + alpha * Math.log1p(-1 / alpha)) / (alpha - 1));
}
function referenceEpsilon(rho: number, delta: number): number {
  let lo = 0;
  let hi = rho + 2 * Math.sqrt(rho * Math.log(1 / delta));
  while (hi - lo > 1e-12 * hi) {
    const e = (lo + hi) / 2;
    if (referenceDelta(rho, e) <= delta) hi = e;
    else lo = e;
  }
  return hi;
}

describe('calibration and conversion', () => {
  it('gives the classical Gaussian σ ≈ 5.30 at Δ = 1, δ = 1e-6, ε = 1', () => {
    expect(classicalGaussianSigma(1, 1, 1e-6)).to.be.closeTo(5.3, 0.01);
  });

  it('calibrates Laplace to the scale Δ/ε, exactly when Δ/ε is a short decimal', () => {
    expect(laplaceScaleFor(3, 0.5)).to.equal(6);
    for (const [delta, eps, scale] of [
      [1n, 1, rational(1n)],
      [1n, 0.1, rational(10n)],
      [1n, 0.3, rational(10n, 3n)],
      [20n, 0.5, rational(40n)],
    ] as const) {
      const noise = laplaceNoise(integerSensitivity(delta), eps);
      expect(compare(noise.scale, scale), `Δ=${delta} ε=${eps}`).to.equal(0);
    }
  });

  it('rounds a long scale up, by at most 2^-39 relative (more noise, never less)', () => {
    const eps = 0.12345678901234; // denominator 10^14 > 2^40: must be rounded
    const exact = div(rational(7n), rationalFromNumber(eps));
    const noise = laplaceNoise(integerSensitivity(7n), eps);
    expect(compare(noise.scale, exact)).to.equal(1);
    expect(toNumber(noise.scale) / toNumber(exact) - 1).to.be.lessThan(2 ** -39);
    const rho = 0.01234567890123;
    const g = gaussianNoise(integerSensitivity(3n), rho);
    const exactSigma2 = div(rational(9n), div(rationalFromNumber(rho), rational(1n, 2n)));
    expect(compare(g.sigma2, exactSigma2)).to.equal(1);
    expect(toNumber(g.sigma2) / toNumber(exactSigma2) - 1).to.be.lessThan(2 ** -39);
    // short decimals stay exact
    expect(compare(laplaceNoise(integerSensitivity(7n), 0.123456789).scale, div(rational(7n), rationalFromNumber(0.123456789)))).to.equal(0);
  });

  it('calibrates Gaussian noise to σ² = Δ²/(2ρ)', () => {
    expect(compare(gaussianNoise(integerSensitivity(1n), 0.5).sigma2, rational(1n))).to.equal(0);
    expect(compare(gaussianNoise(integerSensitivity(4n), 2).sigma2, rational(4n))).to.equal(0);
    expect(gaussianSigmaFor(1, 0.5)).to.equal(1);
    expect(rhoForGaussianSigma(2, 2)).to.equal(0.5);
  });

  it('converts zCDP to (ε, δ) like the CKS 2020 reference computation', () => {
    for (const rho of [1e-6, 1e-3, 0.0148, 0.1, 0.5, 2, 10]) {
      for (const delta of [1e-12, 1e-7, 1e-5, 1e-2]) {
        const ours = zcdpToEpsilon(rho, delta);
        expect(ours, `ρ=${rho} δ=${delta}`).to.be.closeTo(referenceEpsilon(rho, delta), 1e-7 * Math.max(1, ours));
      }
    }
  });

  it('is never looser than ρ + 2√(ρ ln(1/δ)), and strictly tighter in practice', () => {
    for (const rho of [1e-4, 0.01, 0.5, 3]) {
      for (const delta of [1e-10, 1e-6, 1e-3]) {
        expect(zcdpToEpsilon(rho, delta)).to.be.lessThan(zcdpToEpsilonBasic(rho, delta));
      }
    }
    expect(zcdpToEpsilonBasic(0.5, 1e-6)).to.be.closeTo(0.5 + 2 * Math.sqrt(0.5 * Math.log(1e6)), 1e-12);
  });

  it('is valid: the δ of the returned ε at the optimal order does not exceed the requested δ', () => {
    for (const rho of [1e-5, 0.02, 1]) {
      for (const delta of [1e-9, 1e-6]) {
        expect(zcdpDelta(rho, zcdpToEpsilon(rho, delta))).to.be.at.most(delta * (1 + 1e-9));
        expect(referenceDelta(rho, zcdpToEpsilon(rho, delta))).to.be.at.most(delta * (1 + 1e-9));
      }
    }
  });

  it('grows with ρ and shrinks with δ', () => {
    let last = 0;
    for (const rho of [1e-6, 1e-4, 1e-2, 0.1, 1, 10]) {
      const e = zcdpToEpsilon(rho, 1e-7);
      expect(e).to.be.greaterThan(last);
      last = e;
    }
    let prev = Infinity;
    for (const delta of [1e-12, 1e-9, 1e-6, 1e-3, 0.1]) {
      const e = zcdpToEpsilon(0.1, delta);
      expect(e).to.be.lessThan(prev);
      prev = e;
    }
  });

  it('inverts the conversion conservatively: the ρ found for ε converts back to at most ε', () => {
    for (const eps of [0.01, 0.1, 0.5, 1, 2, 8]) {
      for (const delta of [1e-10, 1e-7, 1e-5]) {
        const rho = epsilonToZcdp(eps, delta);
        const back = zcdpToEpsilon(rho, delta);
        expect(back).to.be.at.most(eps);
        expect(back).to.be.closeTo(eps, 1e-9 * eps);
        // tighter conversion ⇒ more ρ for the same ε than Bun–Steinke's inverse
        expect(rho).to.be.greaterThan(epsilonToZcdpBasic(eps, delta));
      }
    }
    expect(epsilonToZcdp(zcdpToEpsilon(0.0148, 1e-7), 1e-7)).to.be.closeTo(0.0148, 1e-9);
  });
});
