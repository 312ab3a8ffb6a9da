/**
 * dpq's differential-privacy engine: a pure library (no express, no pg).
 *
 * Pipeline seams, after OpenDP and Google's dp library:
 *   checks → sensitivity (from contribution bounds) → budget split → calibration → exact samplers
 *   (mechanisms, partition selection, quantiles) → post-processing → accuracy → accountant.
 */
export {
  DpParameterError,
  checkEpsilon,
  checkDelta,
  checkPositiveDelta,
  checkRho,
  checkConfidence,
} from './checks.ts';
export {
  type RandomSource,
  CryptoRandomSource,
  SeededRandomSource,
  createRandomSource,
  cryptoRandomSource,
  insecureSeededRandomSource,
} from './random.ts';
export { type Rational, rational, rationalFromNumber, roundUp, scaleToRational, toNumber } from './rational.ts';
export { bernoulliExpNeg, bernoulliRational } from './bernoulli.ts';
export {
  sampleDiscreteLaplace,
  discreteLaplacePmf,
  discreteLaplaceUpperTail,
  discreteLaplaceVariance,
} from './discrete-laplace.ts';
export { sampleDiscreteGaussian, discreteGaussianPmf, discreteGaussianVariance } from './discrete-gaussian.ts';
export {
  zcdpToEpsilon,
  zcdpToEpsilonBasic,
  zcdpDelta,
  epsilonToZcdp,
  epsilonToZcdpBasic,
  classicalGaussianSigma,
} from './conversion.ts';
export { type Grid, grid, INTEGER_GRID, toGridUnits, fromGridUnits, maxAbsGridUnits } from './grid.ts';
export { type Sensitivity, integerSensitivity } from './sensitivity.ts';
export {
  type NoiseSpec,
  type LaplaceNoise,
  type GaussianNoise,
  type NoiseShare,
  laplaceNoise,
  gaussianNoise,
  calibrateNoise,
  noiseScale,
  laplaceScaleFor,
  epsilonForLaplaceScale,
  gaussianSigmaFor,
  rhoForGaussianSigma,
} from './calibrate.ts';
export { sampleNoise, releaseInteger, releaseReal, gridValue } from './mechanisms.ts';
export { type MeasurementInput, type Release, measure } from './measure.ts';
export { type HalfWidthTarget, epsilonForQueryHalfWidth } from './estimate.ts';
export {
  type Accuracy,
  noiseAccuracy,
  averageAccuracy,
  laplaceHalfWidthUnits,
  gaussianHalfWidthUnits,
  noiseStddevUnits,
  halfWidthUnits,
  epsilonForHalfWidth,
  rhoForHalfWidth,
} from './accuracy.ts';
export { normalQuantile } from './normal.ts';
export {
  type MeasurementPart,
  type MeasurementRequest,
  type BudgetRequest,
  type MeasurementBudget,
  type PartitionSelectionBudget,
  type BudgetSplit,
  splitBudget,
} from './budget-split.ts';
export {
  type PartitionSelectionParams,
  type PartitionThreshold,
  partitionThreshold,
  selectPartition,
} from './partition-selection.ts';
export { type QuantileParams, quantileFromHistogram, quantileBin } from './quantile.ts';
export { releasedCount, averageFromNoisy, varianceFromNoisy } from './post-process.ts';
export {
  type Mechanism,
  type PrivacyEvent,
  type Composition,
  privacyEvent,
  privacyEventFromUnits,
  compose,
  pureToZcdpPico,
} from './accountant.ts';
export {
  MICRO,
  PICO,
  epsilonToMicro,
  microToEpsilon,
  deltaToPico,
  picoToDelta,
  rhoToPico,
  picoToRho,
  splitEvenly,
} from './units.ts';
