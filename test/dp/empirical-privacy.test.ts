/**
 * Empirical privacy of the Laplace count (Δ = 1): a distinguishing test between f(D0) = 100 and
 * f(D1) = 101. On a first half of the releases it picks the event {output ≥ τ} or {output ≤ τ}
 * (and direction) with the best lower bound; on the second half a Clopper–Pearson bound (α = 1e-6)
 * gives a lower bound on ε. It must never exceed the claimed ε, and must exceed it for a
 * mechanism that claims ε while using noise for 2ε (positive control).
 */
import { expect } from 'chai';
import { laplaceNoise } from '../../src/dp/calibrate.ts';
import { releaseInteger } from '../../src/dp/mechanisms.ts';
import { type RandomSource, insecureSeededRandomSource } from '../../src/dp/random.ts';
import { integerSensitivity } from '../../src/dp/sensitivity.ts';
import { clopperPearson } from './support/stats.ts';

const N = 100_000; // releases per database (two halves of 50 000)
const ALPHA = 1e-6;

type Event = { readonly kind: 'ge' | 'le'; readonly tau: number };
const inEvent = (x: number, e: Event): boolean => (e.kind === 'ge' ? x >= e.tau : x <= e.tau);
const count = (xs: readonly number[], e: Event): number => xs.reduce((a, x) => a + (inEvent(x, e) ? 1 : 0), 0);

function releases(value: bigint, noiseEpsilon: number, n: number, rng: RandomSource): number[] {
  const noise = laplaceNoise(integerSensitivity(1n), noiseEpsilon);
  return Array.from({ length: n }, () => Number(releaseInteger(value, noise, rng)));
}

/** A lower confidence bound on ε from samples of M(D0) and M(D1). */
function epsilonLowerBound(d0: number[], d1: number[]): number {
  const half = d0.length / 2;
  const [select0, test0] = [d0.slice(0, half), d0.slice(half)];
  const [select1, test1] = [d1.slice(0, half), d1.slice(half)];
  // Select: the event and direction with the best lower bound on the selection half.
  let best: { event: Event; flip: boolean } = { event: { kind: 'ge', tau: 101 }, flip: false };
  let bestBound = -Infinity;
  for (let tau = 90; tau <= 112; tau++) {
    for (const kind of ['ge', 'le'] as const) {
      const e = { kind, tau };
      const a = count(select0, e);
      const b = count(select1, e);
      for (const flip of [false, true]) {
        const [hi, lo] = flip ? [a, b] : [b, a];
        const bound = Math.log(clopperPearson(hi, half, ALPHA / 2).lower / clopperPearson(lo, half, ALPHA / 2).upper);
        if (bound > bestBound) {
          bestBound = bound;
          best = { event: e, flip };
        }
      }
    }
  }
  // Test on fresh samples: ln(P_hi lower bound / P_lo upper bound), each bound at α/2.
  const num = clopperPearson(count(best.flip ? test0 : test1, best.event), half, ALPHA / 2).lower;
  const den = clopperPearson(count(best.flip ? test1 : test0, best.event), half, ALPHA / 2).upper;
  return Math.log(num / den);
}

describe('empirical privacy of the Laplace count', () => {
  for (const epsilon of [0.1, 0.5, 1]) {
    it(`never shows more than the claimed ε = ${epsilon}`, () => {
      const rng = insecureSeededRandomSource(`audit-${epsilon}`);
      const lb = epsilonLowerBound(releases(100n, epsilon, N, rng), releases(101n, epsilon, N, rng));
      expect(lb).to.be.at.most(epsilon);
      expect(lb, 'the test has power: it sees most of ε').to.be.greaterThan(epsilon / 4);
    });

    it(`detects a mechanism claiming ε = ${epsilon} while adding noise for 2ε (positive control)`, () => {
      const rng = insecureSeededRandomSource(`audit-control-${epsilon}`);
      const lb = epsilonLowerBound(releases(100n, 2 * epsilon, N, rng), releases(101n, 2 * epsilon, N, rng));
      expect(lb).to.be.greaterThan(epsilon);
    });
  }
});
