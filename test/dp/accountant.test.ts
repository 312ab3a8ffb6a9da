import { expect } from 'chai';
import { compose, privacyEvent, privacyEventFromUnits } from '../../src/dp/accountant.ts';
import { DpParameterError } from '../../src/dp/checks.ts';
import { zcdpToEpsilon } from '../../src/dp/conversion.ts';
import { deltaToPico, epsilonToMicro, microToEpsilon, picoToDelta, rhoToPico, splitEvenly } from '../../src/dp/units.ts';

describe('accountant', () => {
  describe('ledger units', () => {
    it('spends exactly 0.3 for 0.1 + 0.2', () => {
      expect(0.1 + 0.2).not.to.equal(0.3); // the float trap the units avoid
      expect(epsilonToMicro(0.1) + epsilonToMicro(0.2)).to.equal(epsilonToMicro(0.3));
      expect(microToEpsilon(epsilonToMicro(0.1) + epsilonToMicro(0.2))).to.equal(0.3);
      const total = compose([privacyEvent('laplace', { epsilon: 0.1 }), privacyEvent('laplace', { epsilon: 0.2 })]);
      expect(total.epsilon).to.equal(300_000);
      expect(total.real.epsilon).to.equal(0.3);
    });

    it('represents δ = 1e-7 and δ = 1e-12 exactly', () => {
      expect(deltaToPico(1e-7)).to.equal(100_000);
      expect(deltaToPico(1e-12)).to.equal(1);
      expect(picoToDelta(100_000)).to.equal(1e-7);
      expect(deltaToPico(1e-7) * 3).to.equal(deltaToPico(3e-7));
    });

    it('rounds values finer than a unit up by default and down on request', () => {
      expect(epsilonToMicro(0.1234567)).to.equal(123_457);
      expect(epsilonToMicro(0.1234567, 'down')).to.equal(123_456);
      expect(rhoToPico(1.5e-12)).to.equal(2);
      expect(rhoToPico(1.5e-12, 'down')).to.equal(1);
    });

    it('splits a total evenly into integers that sum to it exactly', () => {
      const parts = splitEvenly(1_000_000, 7);
      expect(parts.reduce((a, b) => a + b, 0)).to.equal(1_000_000);
      expect(Math.max(...parts) - Math.min(...parts)).to.be.at.most(1);
    });

    it('refuses negative, non-finite or non-integer amounts', () => {
      expect(() => epsilonToMicro(-0.1)).to.throw(DpParameterError);
      expect(() => deltaToPico(Number.NaN)).to.throw(DpParameterError);
      expect(() => privacyEventFromUnits({ mechanism: 'laplace', epsilon: 0.5, delta: 0, rho: 0 })).to.throw(DpParameterError);
      expect(() => privacyEventFromUnits({ mechanism: 'gaussian', epsilon: 5, delta: 0, rho: 3 })).to.throw(DpParameterError);
    });
  });

  describe('compose', () => {
    it('adds pure Laplace events (basic composition)', () => {
      const events = [0.5, 0.25, 1].map((epsilon) => privacyEvent('laplace', { epsilon }));
      const c = compose(events);
      expect(c).to.include({ epsilon: 1_750_000, delta: 0, method: 'basic' });
    });

    it('freezes events', () => {
      const e = privacyEvent('laplace', { epsilon: 0.5 });
      expect(Object.isFrozen(e)).to.equal(true);
    });

    it('composes Gaussian events through ρ, tighter than adding their ε', () => {
      const rho = 0.001;
      const delta = 1e-7;
      const one = privacyEvent('gaussian', { epsilon: zcdpToEpsilon(rho, delta), delta, rho });
      const events = Array.from({ length: 50 }, () => one);
      const c = compose(events);
      expect(c.method).to.equal('zcdp');
      expect(c.delta).to.equal(50 * 100_000);
      expect(c.basicEpsilon).to.equal(50 * one.epsilon);
      // Σρ = 0.05 converted once at Σδ = 5e-6 (rounded up to a micro-ε)
      expect(c.epsilon).to.equal(epsilonToMicro(zcdpToEpsilon(0.05, 5e-6)));
      expect(c.epsilon).to.be.lessThan(c.basicEpsilon / 3);
    });

    it('reports whichever bound is tighter: zCDP for a Gaussian event, basic for Laplace events', () => {
      const ev = privacyEvent('gaussian', { epsilon: 1, delta: 1e-7, rho: 0.0148 });
      const c = compose([ev]);
      // the event's own conversion (0.8486) is below its charge of 1, so zCDP wins here
      expect(c.epsilon).to.equal(epsilonToMicro(zcdpToEpsilon(0.0148, 1e-7)));
      const lap = compose([privacyEvent('laplace', { epsilon: 1 }), privacyEvent('laplace', { epsilon: 0.2, delta: 1e-7 })]);
      expect(lap).to.include({ method: 'basic', epsilon: 1_200_000, delta: 100_000 });
    });

    it('folds many small pure Laplace events into the zCDP sum when that is tighter', () => {
      const events = [
        privacyEvent('gaussian', { epsilon: zcdpToEpsilon(0.001, 1e-6), delta: 1e-6, rho: 0.001 }),
        ...Array.from({ length: 100 }, () => privacyEvent('laplace', { epsilon: 0.05 })),
      ];
      const c = compose(events);
      // ρ = 0.001 + 100 · 0.05²/2 = 0.126
      expect(c.method).to.equal('zcdp');
      expect(c.epsilon).to.equal(epsilonToMicro(zcdpToEpsilon(0.126, 1e-6)));
      expect(c.epsilon).to.be.lessThan(c.basicEpsilon);
    });

    it('composes the empty ledger to zero', () => {
      expect(compose([])).to.include({ epsilon: 0, delta: 0, method: 'basic' });
    });
  });
});
