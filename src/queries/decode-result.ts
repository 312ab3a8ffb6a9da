/**
 * Reading a compiled query's result: every measure cell is an exact integer in grid units (int8 as
 * bigint, numeric sums as decimal strings — the adapters never pass them through a float), and a
 * histogram cell is the text `bin:count,bin:count,…` (empty: all zero).
 */
import type { CompiledQuery, HistogramSpec, QueryPlan } from '../sql/index.ts';
import type { Cell, ResultSet } from '../warehouse/adapter.ts';

/** An exact integer cell as bigint; throws on anything else (a fraction, NULL, a float beyond 2^53). */
export function cellToBigInt(cell: Cell): bigint {
  if (typeof cell === 'bigint') return cell;
  if (typeof cell === 'number' && Number.isSafeInteger(cell)) return BigInt(cell);
  if (typeof cell === 'string') {
    const m = /^(-?\d+)(?:\.0*)?$/.exec(cell.trim());
    if (m !== null) return BigInt(m[1]!);
  }
  throw new TypeError(`not an exact integer: ${typeof cell === 'string' ? JSON.stringify(cell) : String(cell)}`);
}

/** The dense bin counts of a histogram cell. */
export function decodeHistogram(cell: Cell, spec: HistogramSpec): bigint[] {
  const counts = Array.from({ length: spec.bins }, () => 0n);
  if (cell === null || cell === '') return counts;
  if (typeof cell !== 'string') throw new TypeError('a histogram cell is text');
  for (const part of cell.split(',')) {
    const [b, n] = part.split(':');
    const bin = Number(b);
    if (!Number.isInteger(bin) || bin < 0 || bin >= spec.bins || n === undefined) throw new TypeError(`bad histogram entry ${JSON.stringify(part)}`);
    counts[bin] = cellToBigInt(n);
  }
  return counts;
}

/** One group of the result, decoded. */
export interface DecodedGroup {
  /** Key values as the warehouse returned them (text, date text, number or bigint, boolean, NULL). */
  readonly keys: readonly Cell[];
  /** Distinct units in the group (only with private group keys). */
  readonly units: bigint | undefined;
  /**
   * Per measurement (plan.measurements order): a bigint, or a histogram still in its cell — its
   * bins are built by `histogramCounts` only for a group that is released.
   */
  readonly values: readonly (bigint | PendingHistogram)[];
}

export interface PendingHistogram {
  readonly kind: 'histogram';
  readonly cell: Cell;
  readonly spec: HistogramSpec;
}

/** The dense bin counts of a pending histogram. */
export function histogramCounts(h: PendingHistogram): bigint[] {
  return decodeHistogram(h.cell, h.spec);
}

/** Decode every row of a compiled query's result against its output contract. */
export function decodeResult(plan: QueryPlan, compiled: CompiledQuery, result: ResultSet): DecodedGroup[] {
  return result.rows.map((row) => {
    const keys: Cell[] = Array.from({ length: plan.keys.length }, () => null);
    let units: bigint | undefined;
    const values: (bigint | PendingHistogram)[] = Array.from({ length: plan.measurements.length }, () => 0n);
    compiled.outputs.forEach((out, i) => {
      const cell = row[i] ?? null;
      if (out.kind === 'key') keys[out.key] = cell;
      else if (out.kind === 'units') units = cellToBigInt(cell);
      else {
        const m = plan.measurements[out.measurement]!;
        values[out.measurement] = m.histogram !== undefined ? Object.freeze({ kind: 'histogram', cell, spec: m.histogram }) : cellToBigInt(cell);
      }
    });
    return Object.freeze({ keys: Object.freeze(keys), units, values: Object.freeze(values) });
  });
}
