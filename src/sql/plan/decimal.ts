/**
 * Exact decimals (bigint digits and a power-of-ten scale) for the few places that must not round
 * through a float: numeric literals of a query, and the granularity grid that bounds are moved to
 * (`5000 / 0.01` is 499999.99999999994 in floating point, 500000 here).
 */

export interface Decimal {
  /** value = digits / 10^scale, scale ≥ 0. */
  readonly digits: bigint;
  readonly scale: number;
}

const SYNTAX = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?$/;

/** Literals further than this from 1 (in powers of ten) are refused: beyond float8 in both directions. */
export const MAX_DECIMAL_EXPONENT = 300;

/**
 * Parse a decimal number written the way SQL writes one (`12`, `-1.5`, `.5`, `2e3`); undefined when
 * it is not one, or when its magnitude is above 1e300 or (non-zero and) below 1e-300.
 */
export function parseDecimal(text: string): Decimal | undefined {
  const m = SYNTAX.exec(text);
  if (m === null) return undefined;
  const [, sign, body, expText] = m as unknown as [string, string, string, string | undefined];
  if (expText !== undefined && expText.replace(/^[+-]?0*/, '').length > 6) {
    return /^[+-]?0*$/.test(body.replace('.', '')) ? { digits: 0n, scale: 0 } : undefined;
  }
  const exp = expText === undefined ? 0 : Number(expText);
  const [intPart, fracPart = ''] = body.split('.') as [string, string?];
  const allDigits = `${intPart}${fracPart}`.replace(/^0+/, '');
  if (allDigits === '') return { digits: 0n, scale: 0 };
  if (allDigits.length > 1000) return undefined;
  // Position of the leading digit: value ≈ 10^magnitude.
  const magnitude = intPart.replace(/^0+/, '').length > 0
    ? intPart.replace(/^0+/, '').length - 1 + exp
    : -(fracPart.length - fracPart.replace(/^0+/, '').length) - 1 + exp;
  if (magnitude > MAX_DECIMAL_EXPONENT || magnitude < -MAX_DECIMAL_EXPONENT) return undefined;
  let digits = BigInt(allDigits);
  let scale = fracPart.length - exp;
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return normalize({ digits: sign === '-' ? -digits : digits, scale });
}

/** The exact decimal a JavaScript number prints as (its shortest round-trip form). */
export function decimalOfNumber(n: number): Decimal {
  if (!Number.isFinite(n)) throw new RangeError('not a finite number');
  const d = parseDecimal(String(n));
  if (d === undefined) throw new RangeError(`${n} is out of range`);
  return d;
}

function normalize(d: Decimal): Decimal {
  let { digits, scale } = d;
  while (scale > 0 && digits % 10n === 0n) {
    digits /= 10n;
    scale--;
  }
  return { digits, scale };
}

/** Canonical text: `-12.5`, `0.01`, `500000`. */
export function decimalToString(d: Decimal): string {
  const neg = d.digits < 0n;
  const abs = (neg ? -d.digits : d.digits).toString();
  if (d.scale === 0) return `${neg ? '-' : ''}${abs}`;
  const padded = abs.padStart(d.scale + 1, '0');
  return `${neg ? '-' : ''}${padded.slice(0, -d.scale)}.${padded.slice(-d.scale)}`;
}

export function isInteger(d: Decimal): boolean {
  return normalize(d).scale === 0;
}

/** The integer value of an integral decimal. */
export function toBigInt(d: Decimal): bigint {
  const n = normalize(d);
  if (n.scale !== 0) throw new RangeError('not an integer');
  return n.digits;
}

const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
};

/** ⌊a / b⌋ for decimals (b > 0). */
export function floorQuotient(a: Decimal, b: Decimal): bigint {
  const s = Math.max(a.scale, b.scale);
  return floorDiv(a.digits * 10n ** BigInt(s - a.scale), b.digits * 10n ** BigInt(s - b.scale));
}

/** ⌈a / b⌉ for decimals (b > 0). */
export function ceilQuotient(a: Decimal, b: Decimal): bigint {
  return -floorQuotient({ digits: -a.digits, scale: a.scale }, b);
}

/** n · g as an exact decimal. */
export function times(n: bigint, g: Decimal): Decimal {
  return normalize({ digits: n * g.digits, scale: g.scale });
}

/** 1 / g when that is a whole number (granularity 0.01 → 100), else undefined. */
export function integerReciprocal(g: Decimal): bigint | undefined {
  if (g.digits <= 0n) return undefined;
  const num = 10n ** BigInt(g.scale);
  return num % g.digits === 0n ? num / g.digits : undefined;
}
