/**
 * An independent computation of a query's bounded measurements, in plain JavaScript over the raw
 * rows, to check compiled SQL against. It shares no code with src/sql's compiler: it reads the raw
 * values, applies the documented rule itself — drop NULL units and out-of-domain keys; per person,
 * order rows by (key hash, keys, row hash), keep the first k keys and at most m rows; values: NULL
 * and NaN absent, rounded to the grid (half away from zero) and clamped to the grid bounds — and
 * aggregates with BigInt.
 *
 * The two hashes are the ordering function of the rule, computed by PostgreSQL in a plain query
 * built here (a chain of seeded 64-bit hashes over the keys, and over the raw inputs, both starting
 * from the hash of the unit), so that the choice of rows can be replayed exactly.
 */
import type { Column, Dataset } from '../../src/policy/schema.ts';
import type { QueryPlan } from '../../src/sql/plan/index.ts';
import type { Cell, Warehouse } from '../../src/warehouse/adapter.ts';

export interface ReferenceSpec {
  /** FROM clause (with joins) over the real table names. */
  readonly from: string;
  /** The unit column. */
  readonly unit: string;
  readonly where?: string;
  /** Each group key (typed as the compiled query types it: int8 for integers, date for date_trunc on dates) and its hash. */
  readonly keys: readonly Element[];
  /** The raw inputs in the order the row hash takes them: values (numeric) and COUNT(col) flags (bool). */
  readonly raw: readonly Element[];
  /** SQL of each aggregated column, by column name. */
  readonly columns: Readonly<Record<string, string>>;
  /** SQL of each aggregate's FILTER condition, by aggregate index: the aggregate reads the kept rows where it is true. */
  readonly filters?: Readonly<Record<number, string>>;
}

export interface ReferenceGroup {
  readonly keys: readonly (string | null)[];
  readonly units: bigint;
  readonly values: readonly (bigint | readonly bigint[])[];
}

/** How an element enters the ordering hash (docs/sql.md, "Contribution bounding"). */
export type HashKind = 'int8' | 'text' | 'numeric' | 'bool' | 'record';
export type Element = readonly [sql: string, kind: HashKind];

/** The seeded hash chain of the rule: start from hash(unit::text), rehash each element with it. */
function chain(elements: readonly Element[], unit: string): string {
  let h = `hashtextextended((${unit})::text, 0)`;
  for (const [sql, kind] of elements) {
    const v = `(${sql})`;
    h = {
      int8: `hashint8extended(COALESCE(${v}, 0), ${h})`,
      text: `hashtextextended(COALESCE(${v}::text, ''), ${h})`,
      numeric: `hash_numeric_extended(COALESCE(${v}::numeric, 0), ${h})`,
      bool: `hashint4extended(COALESCE(${v}::int4, 0), ${h})`,
      record: `hash_record_extended(ROW(${v}), ${h})`,
    }[kind];
  }
  return `(${h})::text`;
}

/** Exact rational p/q with q > 0. */
interface Ratio {
  readonly p: bigint;
  readonly q: bigint;
}

function ratio(text: string): Ratio {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i.exec(text.trim());
  if (m === null) throw new Error(`not a decimal: ${text}`);
  const frac = m[3] ?? '';
  let p = BigInt(`${m[2]}${frac}`);
  let q = 10n ** BigInt(frac.length);
  const e = Number(m[4] ?? 0);
  if (e > 0) p *= 10n ** BigInt(e);
  if (e < 0) q *= 10n ** BigInt(-e);
  return { p: m[1] === '-' ? -p : p, q };
}

const floorDiv = (a: bigint, b: bigint): bigint => (a >= 0n ? a / b : -((-a + b - 1n) / b));
const ceilDiv = (a: bigint, b: bigint): bigint => -floorDiv(-a, b);
/** round(a/b) half away from zero, b > 0. */
const roundDiv = (a: bigint, b: bigint): bigint => (a >= 0n ? (2n * a + b) / (2n * b) : -((-2n * a + b) / (2n * b)));

function gridOf(column: Column): { lo: bigint; hi: bigint; g: Ratio } {
  const [l, u] = column.bounds as [number, number];
  const g = ratio(String(column.granularity ?? 1));
  const L = ratio(String(l));
  const U = ratio(String(u));
  // L/g = (L.p·g.q)/(L.q·g.p)
  return { lo: ceilDiv(L.p * g.q, L.q * g.p), hi: floorDiv(U.p * g.q, U.q * g.p), g };
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Rows of the reference query, then the rule, then the aggregates. */
export async function reference(plan: QueryPlan, dataset: Dataset, spec: ReferenceSpec, warehouse: Warehouse): Promise<ReferenceGroup[]> {
  const aggCols = plan.aggregates.map((a) => (a.column === undefined ? undefined : spec.columns[a.column.name]));
  const select = [
    `(${spec.unit})::text AS u`,
    ...spec.keys.map(([k], i) => `${k} AS k${i}`),
    ...aggCols.map((c, i) => `${c === undefined ? 'NULL' : `(${c})::text`} AS c${i}`),
    ...plan.aggregates.map((_, i) => `${spec.filters?.[i] === undefined ? 'true' : `COALESCE((${spec.filters[i]}), false)`} AS f${i}`),
    `${spec.keys.length > 0 ? chain(spec.keys, spec.unit) : "'0'"} AS hk`,
    `${spec.raw.length > 0 ? chain(spec.raw, spec.unit) : "'0'"} AS hr`,
  ];
  const sql = `SELECT ${select.join(', ')} FROM ${spec.from}${spec.where === undefined ? '' : ` WHERE ${spec.where}`}`;
  const result = await warehouse.read(sql, []);
  const nk = spec.keys.length;

  interface Row {
    readonly u: string;
    readonly keys: readonly Cell[];
    readonly keyId: string;
    readonly cols: readonly (string | null)[];
    /** Per aggregate: the row passes its FILTER. */
    readonly passes: readonly boolean[];
    readonly hk: bigint;
    readonly hr: bigint;
  }
  const rows: Row[] = [];
  for (const r of result.rows) {
    const u = r[0];
    if (u === null) continue; // rows without a person never count
    const keys = r.slice(1, 1 + nk);
    const inDomain = plan.keys.every((k, i) => k.domain.kind === 'private' || k.domain.values.some((v) => String(v) === String(keys[i])));
    if (!inDomain) continue;
    rows.push({
      u: String(u),
      keys,
      keyId: JSON.stringify(keys.map((k) => (k === null ? null : String(k)))),
      cols: r.slice(1 + nk, 1 + nk + aggCols.length).map((c) => (c === null ? null : String(c))),
      passes: r.slice(1 + nk + aggCols.length, 1 + nk + 2 * aggCols.length).map((f) => f === true),
      hk: BigInt(String(r[1 + nk + 2 * aggCols.length])),
      hr: BigInt(String(r[2 + nk + 2 * aggCols.length])),
    });
  }

  // The bounding rule, per person.
  const m = plan.bounding.maxRowsPerUnit;
  const k = plan.bounding.maxGroupsPerUnit;
  const byUnit = new Map<string, Row[]>();
  for (const r of rows) byUnit.set(r.u, [...(byUnit.get(r.u) ?? []), r]);
  const kept: { row: Row; first: boolean }[] = [];
  for (const personRows of byUnit.values()) {
    const sorted = plan.bounding.needed
      ? [...personRows].sort((a, b) => compareBig(a.hk, b.hk) || (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0) || compareBig(a.hr, b.hr))
      : personRows;
    const seenKeys: string[] = [];
    let n = 0;
    for (const row of sorted) {
      if (!plan.bounding.needed) {
        kept.push({ row, first: true });
        continue;
      }
      const isNew = !seenKeys.includes(row.keyId);
      if (isNew && seenKeys.length >= k) break; // keys come in order: the rest are beyond the first k
      if (n >= m) break;
      if (isNew) seenKeys.push(row.keyId);
      kept.push({ row, first: isNew });
      n++;
    }
  }

  // Aggregates per group.
  const groups = new Map<string, { keys: readonly Cell[]; rows: { row: Row; first: boolean }[] }>();
  for (const e of kept) {
    const g = groups.get(e.row.keyId) ?? { keys: e.row.keys, rows: [] };
    g.rows.push(e);
    groups.set(e.row.keyId, g);
  }
  if (nk === 0 && groups.size === 0) groups.set('[]', { keys: [], rows: [] });
  if (plan.partitions.kind === 'public') {
    // Every combination of domain values, in domain order.
    let combos: Cell[][] = [[]];
    for (const key of plan.keys) {
      const values = key.domain.kind === 'public' ? key.domain.values : [];
      combos = combos.flatMap((c) => values.map((v) => [...c, typeof v === 'boolean' ? v : String(v)]));
    }
    const filled = new Map<string, { keys: readonly Cell[]; rows: { row: Row; first: boolean }[] }>();
    for (const c of combos) {
      const id = JSON.stringify(c.map((x) => String(x)));
      filled.set(id, { keys: c, rows: groups.get(id)?.rows ?? [] });
    }
    groups.clear();
    for (const [id, g] of filled) groups.set(id, g);
  }

  const out: ReferenceGroup[] = [];
  for (const g of groups.values()) {
    const values: (bigint | readonly bigint[])[] = [];
    for (const meas of plan.measurements) {
      const a = plan.aggregates[meas.aggregate]!;
      const policy = a.column === undefined ? undefined : dataset.tables[plan.tables[a.column.table]!.name]!.columns[a.column.name]!;
      const read = g.rows.filter((e) => e.row.passes[meas.aggregate]);
      const raw = read.map((e) => e.row.cols[meas.aggregate] ?? null);
      if (meas.measure === 'count' && meas.counts === 'rows') values.push(BigInt(read.length));
      else if (meas.measure === 'count' && meas.counts === 'units') values.push(BigInt(g.rows.filter((e) => e.first).length));
      else if (meas.measure === 'count' && a.fn === 'count') values.push(BigInt(raw.filter((v) => v !== null).length));
      else {
        const { lo, hi, g: step } = gridOf(policy!);
        const xs = raw
          .filter((v): v is string => v !== null && v !== 'NaN')
          .map((v) => {
            const r = ratio(v);
            const x = roundDiv(r.p * step.q, r.q * step.p);
            return x < lo ? lo : x > hi ? hi : x;
          });
        const center = a.fn === 'sum' ? 0n : floorDiv(lo + hi, 2n);
        if (meas.measure === 'count') values.push(BigInt(xs.length));
        else if (meas.measure === 'sum') values.push(xs.reduce((s, x) => s + (x - center), 0n));
        else if (meas.measure === 'sumsq') values.push(xs.reduce((s, x) => s + (x - center) * (x - center), 0n));
        else {
          const width = hi - lo + 1n;
          const bins = width < 1024n ? width : 1024n;
          const counts = Array.from({ length: Number(bins) }, () => 0n);
          for (const x of xs) counts[Number(((x - lo) * bins) / width)]! += 1n;
          values.push(counts);
        }
      }
    }
    out.push({
      keys: g.keys.map((c) => (c === null ? null : String(c))),
      units: BigInt(g.rows.filter((e) => e.first).length),
      values,
    });
  }
  return out;
}
