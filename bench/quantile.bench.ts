/**
 * The quantile sampler's cost per draw over a 1024-bin histogram (the SQL's bin count), for an
 * empty, a concentrated and a spread histogram: the same work whatever the data (docs/dp.md), so
 * the ratios to the empty histogram should stay near 1. Best of 15 rounds of 20 draws.
 */
import { quantileBin } from '../src/dp/quantile.ts';
import { cryptoRandomSource } from '../src/dp/random.ts';
import type { Benchmark, BenchRow } from './types.ts';

const BINS = 1024;
const HISTOGRAMS: Readonly<Record<string, readonly number[]>> = {
  empty: new Array<number>(BINS).fill(0),
  concentrated: Array.from({ length: BINS }, (_, i) => (i === 700 ? 5_000 : 0)),
  spread: Array.from({ length: BINS }, (_, i) => i % 7),
};

const bench: Benchmark = async (ctx) => {
  const scenario = `quantile draw, ${BINS} bins`;
  const rng = cryptoRandomSource();
  const params = { lower: 0, upper: 1, p: 0.5, epsilon: 1, maxRowsPerUnit: 1 };
  const best = new Map<string, number>();
  for (let round = 0; round < 15; round++) {
    for (const [name, h] of Object.entries(HISTOGRAMS)) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < 20; i++) quantileBin(h, params, rng);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6 / 20;
      best.set(name, Math.min(best.get(name) ?? Infinity, ms));
    }
  }
  ctx.log(`best ms per draw: ${JSON.stringify(Object.fromEntries(best))}`);
  return Object.keys(HISTOGRAMS).map(
    (name): BenchRow => ({
      scenario,
      figure: `${name} histogram`,
      value: best.get(name)!,
      unit: 'ms/draw',
      ...(name === 'empty' ? {} : { reference: { scenario, figure: 'empty histogram' } }),
    }),
  );
};

export default bench;
