/**
 * Parameter validation for the DP engine, in one place (as Google's dp library keeps `checks/`).
 *
 * Every public entry point of `src/dp/` validates its privacy parameters here, so a NaN, an
 * infinite ε or a δ of 1 can never reach a sampler or a calibration. A bad value throws
 * `DpParameterError`; `param` names the offending parameter. This library knows nothing of HTTP:
 * the service's error handler maps the error to 400 INVALID_REQUEST.
 */

export class DpParameterError extends Error {
  override readonly name = 'DpParameterError';
  /** The parameter that was rejected, e.g. `epsilon`, `delta`, `confidence`. */
  readonly param: string;

  constructor(param: string, message: string) {
    super(`${param}: ${message}`);
    this.param = param;
  }
}

const show = (v: unknown): string => (typeof v === 'bigint' ? `${v}n` : String(v));

/** ε must be a finite number > 0. */
export function checkEpsilon(epsilon: number, param = 'epsilon'): number {
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0) {
    throw new DpParameterError(param, `must be a finite number > 0, got ${show(epsilon)}`);
  }
  return epsilon;
}

/** δ must be a finite number in [0, 1). */
export function checkDelta(delta: number, param = 'delta'): number {
  if (typeof delta !== 'number' || !Number.isFinite(delta) || delta < 0 || delta >= 1) {
    throw new DpParameterError(param, `must be a finite number in [0, 1), got ${show(delta)}`);
  }
  return delta;
}

/** δ for mechanisms that need one (Gaussian conversion, partition selection): in (0, 1). */
export function checkPositiveDelta(delta: number, param = 'delta'): number {
  checkDelta(delta, param);
  if (delta === 0) throw new DpParameterError(param, 'must be > 0 here (zCDP conversion or partition selection needs δ > 0)');
  return delta;
}

/** ρ (zCDP) must be a finite number > 0. */
export function checkRho(rho: number, param = 'rho'): number {
  if (typeof rho !== 'number' || !Number.isFinite(rho) || rho <= 0) {
    throw new DpParameterError(param, `must be a finite number > 0, got ${show(rho)}`);
  }
  return rho;
}

/** A confidence level for intervals: in the open interval (0, 1). */
export function checkConfidence(confidence: number, param = 'confidence'): number {
  if (typeof confidence !== 'number' || !Number.isFinite(confidence) || confidence <= 0 || confidence >= 1) {
    throw new DpParameterError(param, `must be a finite number in (0, 1), got ${show(confidence)}`);
  }
  return confidence;
}

/** A finite number > 0 (granularity, scale, σ, half-width). */
export function checkPositiveFinite(value: number, param: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new DpParameterError(param, `must be a finite number > 0, got ${show(value)}`);
  }
  return value;
}

/** A finite number (a value to be released, a bound). */
export function checkFinite(value: number, param: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new DpParameterError(param, `must be a finite number, got ${show(value)}`);
  }
  return value;
}

/** An integer sensitivity or contribution bound: a bigint ≥ 1. */
export function checkPositiveBigInt(value: bigint, param: string): bigint {
  if (typeof value !== 'bigint' || value < 1n) {
    throw new DpParameterError(param, `must be a bigint ≥ 1, got ${show(value)}`);
  }
  return value;
}

/** A count-like integer ≥ 0 given as a number (safe integer) or bigint; returned as bigint. */
export function checkNonNegativeInteger(value: number | bigint, param: string): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n) throw new DpParameterError(param, `must be ≥ 0, got ${show(value)}`);
    return value;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new DpParameterError(param, `must be a safe integer ≥ 0, got ${show(value)}`);
  }
  return BigInt(value);
}

/** A positive safe integer given as a number (k, number of bins, maxRowsPerUnit). */
export function checkPositiveInteger(value: number, param: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new DpParameterError(param, `must be an integer ≥ 1, got ${show(value)}`);
  }
  return value;
}

/** A probability in [0, 1] (a quantile's p). */
export function checkProbability(value: number, param: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new DpParameterError(param, `must be a finite number in [0, 1], got ${show(value)}`);
  }
  return value;
}
