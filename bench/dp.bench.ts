/**
 * Throughput of the exact samplers (samples per second, one thread) on a count (Δ = 1):
 * discrete Laplace at ε = 1 and 0.1, and discrete Gaussian at the ρ whose conversion at
 * δ = 1e-7 is that ε. Gaussian rows are compared with Laplace at the same ε; the seeded source
 * with the CSPRNG. Target: ≥ 200 000/s for discrete Laplace at ε = 1.
 */
import { type NoiseSpec, gaussianNoise, laplaceNoise } from '../src/dp/calibrate.ts';
import { epsilonToZcdp } from '../src/dp/conversion.ts';
import { sampleNoise } from '../src/dp/mechanisms.ts';
import { type RandomSource, cryptoRandomSource, insecureSeededRandomSource } from '../src/dp/random.ts';
import { integerSensitivity } from '../src/dp/sensitivity.ts';
import type { Benchmark, BenchRow } from './types.ts';

const DELTA = 1e-7;
const RUN_MS = 1000;

function samplesPerSecond(noise: NoiseSpec, rng: RandomSource): number {
  for (let i = 0; i < 20_000; i++) sampleNoise(noise, rng); // warm-up (JIT)
  let n = 0;
  let sink = 0n;
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(RUN_MS) * 1_000_000n;
  let now = t0;
  while (now < deadline) {
    for (let i = 0; i < 1000; i++) sink ^= sampleNoise(noise, rng);
    n += 1000;
    now = process.hrtime.bigint();
  }
  if (sink === -1n) process.stderr.write(''); // keep the draws observable
  return n / (Number(now - t0) / 1e9);
}

const bench: Benchmark = async (ctx) => {
  const scenario = 'dp samplers, Δ = 1';
  const rows: BenchRow[] = [];
  const count = integerSensitivity(1n);
  for (const epsilon of [1, 0.1]) {
    const laplace = laplaceNoise(count, epsilon);
    const rho = epsilonToZcdp(epsilon, DELTA);
    const gaussian = gaussianNoise(count, rho);
    const lap = `discrete Laplace ε=${epsilon}`;
    ctx.log(`${lap} (scale ${Number(laplace.scale.num) / Number(laplace.scale.den)})`);
    rows.push({
      scenario,
      figure: lap,
      value: samplesPerSecond(laplace, cryptoRandomSource()),
      unit: 'samples/s',
      ...(epsilon === 1 ? {} : { reference: { scenario, figure: 'discrete Laplace ε=1' } }),
    });
    const gau = `discrete Gaussian ε=${epsilon} (δ=1e-7, σ=${(1 / Math.sqrt(2 * rho)).toFixed(2)})`;
    ctx.log(gau);
    rows.push({
      scenario,
      figure: gau,
      value: samplesPerSecond(gaussian, cryptoRandomSource()),
      unit: 'samples/s',
      reference: { scenario, figure: lap },
    });
  }
  const seeded = 'discrete Laplace ε=1, seeded source';
  ctx.log(seeded);
  rows.push({
    scenario,
    figure: seeded,
    value: samplesPerSecond(laplaceNoise(count, 1), insecureSeededRandomSource('bench')),
    unit: 'samples/s',
    reference: { scenario, figure: 'discrete Laplace ε=1' },
  });
  return rows;
};

export default bench;
