/**
 * Ledger units: privacy amounts as integers, so that sums are exact (0.1 + 0.2 spends 0.3).
 *
 * ε is counted in micro-units (1e-6), δ and ρ in pico-units (1e-12), so that δ = 1e-7 is 100 000
 * units exactly and the smallest ρ a policy's minimum ε can produce (~1e-6) keeps six digits.
 * Amounts are JavaScript safe integers (exact below 2^53: 9e9 ε, 9000 δ or ρ — far above any
 * limit) so they serialise as plain JSON numbers and fit a PostgreSQL bigint.
 *
 * Converting a number reads it as the decimal it prints as (see rational.ts), so 0.3 is exactly
 * 300 000 micro-ε; a value finer than the unit is rounded UP by default (never charge less than
 * asked), or DOWN where the caller needs "at most" (a ρ that must stay within a conversion).
 */
import { DpParameterError } from './checks.ts';
import { ceilDiv, floorDiv, rationalFromNumber } from './rational.ts';

export type Rounding = 'up' | 'down';

export const MICRO = 1_000_000;
export const PICO = 1_000_000_000_000;

function toUnits(value: number, perUnit: bigint, param: string, rounding: Rounding): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new DpParameterError(param, `must be a finite number ≥ 0, got ${String(value)}`);
  }
  const r = rationalFromNumber(value);
  const scaled = rounding === 'up' ? ceilDiv(r.num * perUnit, r.den) : floorDiv(r.num * perUnit, r.den);
  const units = Number(scaled);
  if (!Number.isSafeInteger(units)) throw new DpParameterError(param, `is too large for the ledger: ${value}`);
  return units;
}

function checkUnits(units: number, param: string): number {
  if (!Number.isSafeInteger(units) || units < 0) {
    throw new DpParameterError(param, `ledger units must be a safe integer ≥ 0, got ${String(units)}`);
  }
  return units;
}

/** ε → micro-ε (integer). */
export const epsilonToMicro = (epsilon: number, rounding: Rounding = 'up'): number =>
  toUnits(epsilon, BigInt(MICRO), 'epsilon', rounding);
/** micro-ε → ε (the double nearest the exact decimal). */
export const microToEpsilon = (micro: number): number => checkUnits(micro, 'epsilon') / MICRO;

/** δ → pico-δ (integer). */
export const deltaToPico = (delta: number, rounding: Rounding = 'up'): number =>
  toUnits(delta, BigInt(PICO), 'delta', rounding);
/** pico-δ → δ. */
export const picoToDelta = (pico: number): number => checkUnits(pico, 'delta') / PICO;

/** ρ → pico-ρ (integer). */
export const rhoToPico = (rho: number, rounding: Rounding = 'up'): number => toUnits(rho, BigInt(PICO), 'rho', rounding);
/** pico-ρ → ρ. */
export const picoToRho = (pico: number): number => checkUnits(pico, 'rho') / PICO;

/** Validate an amount already in units (from the ledger). */
export const checkLedgerUnits = checkUnits;

/** Split `total` units into `parts` integers that differ by at most one and sum to `total` exactly. */
export function splitEvenly(total: number, parts: number): number[] {
  checkUnits(total, 'total');
  if (!Number.isSafeInteger(parts) || parts < 1) throw new RangeError('splitEvenly: parts must be ≥ 1');
  const base = Math.floor(total / parts);
  const extra = total - base * parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}
