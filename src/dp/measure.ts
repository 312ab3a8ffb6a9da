/**
 * One noisy release of one measurement, with its accuracy: the call the query endpoint makes per
 * aggregate value (and per group). It ties together calibration, the exact sampler and the
 * accuracy report so they cannot disagree about the noise that was actually used.
 */
import { type Accuracy, noiseAccuracy } from './accuracy.ts';
import { type NoiseShare, type NoiseSpec, calibrateNoise } from './calibrate.ts';
import { type Grid, INTEGER_GRID, fromGridUnits } from './grid.ts';
import { releaseInteger } from './mechanisms.ts';
import type { RandomSource } from './random.ts';
import type { Sensitivity } from './sensitivity.ts';

export interface MeasurementInput {
  /** The exact (bounded, clamped, rounded) query value in grid units. */
  readonly value: bigint;
  /** Sensitivity in grid units (sensitivity.ts). */
  readonly sensitivity: Sensitivity;
  /** ε (laplace) or ρ (gaussian) for this measurement, e.g. a `MeasurementBudget` from `splitBudget`. */
  readonly share: NoiseShare;
  /** The column's grid; default: integers (counts). */
  readonly grid?: Grid;
  /** Confidence of the reported interval (request's `confidence`). */
  readonly confidence: number;
}

export interface Release {
  /** value + noise, in grid units (exact). */
  readonly units: bigint;
  /** The same on the grid, as a finite number. */
  readonly value: number;
  readonly noise: NoiseSpec;
  /** Noise stddev and interval in the column's units. */
  readonly accuracy: Accuracy;
}

/** Calibrate, draw once, and report accuracy. */
export function measure(input: MeasurementInput, rng: RandomSource): Release {
  const g = input.grid ?? INTEGER_GRID;
  const noise = calibrateNoise(input.sensitivity, input.share);
  const accuracy = noiseAccuracy(noise, input.confidence, g);
  const units = releaseInteger(input.value, noise, rng);
  return Object.freeze({ units, value: fromGridUnits(units, g), noise, accuracy });
}
