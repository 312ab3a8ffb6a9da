/**
 * Randomness for the samplers: uniform integers without modulo bias, from `node:crypto` by default.
 *
 * Everything random in `src/dp/` goes through a `RandomSource`, so a test can swap in a seeded
 * source and production never touches the global non-cryptographic generator. Uniform integers in [0, n) use rejection
 * sampling on the smallest power of two ≥ n (at most two expected draws, exactly uniform).
 *
 * The seeded source (seedrandom's ARC4) exists only for reproducible tests and demos
 * (`DPQ_NOISE_SEED`, refused by config unless the warehouse is the embedded demo or
 * DPQ_ALLOW_SEEDED_NOISE=1): its output is predictable from the seed, which destroys the privacy
 * guarantee. Its factory is named to say so, and every release drawn from it is marked seeded.
 */
import { randomFillSync } from 'node:crypto';
import seedrandom from 'seedrandom';
import { bitLength } from './rational.ts';

export interface RandomSource {
  /** Which generator this is; `seeded` must never serve production traffic. */
  readonly kind: 'crypto' | 'seeded';
  /** 32 uniform random bits as an unsigned integer. */
  nextUint32(): number;
  /** One uniform random bit (0 or 1). */
  nextBit(): number;
  /** A uniform integer in [0, n) for a safe integer n ≥ 1. */
  uniformInt(n: number): number;
  /** A uniform bigint in [0, n) for n ≥ 1n. */
  uniformBigInt(n: bigint): bigint;
  /** A uniform multiple of 2^-53 in [0, 1). */
  uniformFraction(): number;
}

const TWO_32 = 0x1_0000_0000;
const TWO_53 = 2 ** 53;

/** The unbiased conversions, on top of a source of 32-bit words. */
abstract class WordRandomSource implements RandomSource {
  abstract readonly kind: 'crypto' | 'seeded';
  abstract nextUint32(): number;

  private bits = 0;
  private bitsLeft = 0;

  nextBit(): number {
    if (this.bitsLeft === 0) {
      this.bits = this.nextUint32();
      this.bitsLeft = 32;
    }
    this.bitsLeft -= 1;
    return (this.bits >>> this.bitsLeft) & 1;
  }

  uniformInt(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`uniformInt: n must be a safe integer ≥ 1, got ${n}`);
    if (n === 1) return 0;
    if (n <= TWO_32) {
      // Keep the top k bits of a word, k = bits of n-1; accept below n (probability > 1/2).
      const shift = Math.clz32(n - 1);
      for (;;) {
        const r = this.nextUint32() >>> shift;
        if (r < n) return r;
      }
    }
    const shift = Math.clz32(Math.floor((n - 1) / TWO_32));
    for (;;) {
      const r = (this.nextUint32() >>> shift) * TWO_32 + this.nextUint32();
      if (r < n) return r;
    }
  }

  uniformBigInt(n: bigint): bigint {
    if (n < 1n) throw new RangeError(`uniformBigInt: n must be ≥ 1, got ${n}`);
    if (n <= BigInt(Number.MAX_SAFE_INTEGER)) return BigInt(this.uniformInt(Number(n)));
    const k = bitLength(n - 1n);
    const words = Math.ceil(k / 32);
    const topShift = 32 * words - k;
    for (;;) {
      let r = BigInt(this.nextUint32() >>> topShift);
      for (let i = 1; i < words; i++) r = (r << 32n) | BigInt(this.nextUint32());
      if (r < n) return r;
    }
  }

  uniformFraction(): number {
    // 21 + 32 = 53 uniform bits, as an exact multiple of 2^-53.
    return ((this.nextUint32() >>> 11) * TWO_32 + this.nextUint32()) / TWO_53;
  }
}

/** The production source: `node:crypto`'s CSPRNG, read in 16 KiB blocks to amortise the call. */
export class CryptoRandomSource extends WordRandomSource {
  readonly kind = 'crypto' as const;
  private readonly pool = new Uint32Array(4096);
  private next = this.pool.length;

  nextUint32(): number {
    if (this.next === this.pool.length) {
      randomFillSync(this.pool);
      this.next = 0;
    }
    return this.pool[this.next++]!;
  }
}

/** Deterministic words from seedrandom (ARC4). Predictable: tests and demos only. */
export class SeededRandomSource extends WordRandomSource {
  readonly kind = 'seeded' as const;
  private readonly prng: seedrandom.PRNG;

  constructor(seed: string) {
    super();
    this.prng = seedrandom(seed);
  }

  nextUint32(): number {
    return this.prng.int32() >>> 0;
  }
}

/** A new CSPRNG-backed source. */
export function cryptoRandomSource(): RandomSource {
  return new CryptoRandomSource();
}

/**
 * A reproducible source keyed by `seed`. INSECURE: anyone who knows the seed knows the noise.
 * For tests and demos only (`DPQ_NOISE_SEED`, which config refuses on a real warehouse without
 * DPQ_ALLOW_SEEDED_NOISE=1).
 */
export function insecureSeededRandomSource(seed: string): RandomSource {
  if (typeof seed !== 'string' || seed.length === 0) throw new RangeError('insecureSeededRandomSource: seed must be a non-empty string');
  return new SeededRandomSource(seed);
}

/**
 * The factory the service uses: the CSPRNG unless a noise seed is configured. Pass
 * `config.noiseSeed` (config refuses a seed on a real warehouse unless explicitly allowed).
 */
export function createRandomSource(noiseSeed?: string): RandomSource {
  return noiseSeed === undefined ? cryptoRandomSource() : insecureSeededRandomSource(noiseSeed);
}
