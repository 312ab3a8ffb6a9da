/**
 * The SQL of the expressions compiled queries are made of: column references under the compiler's
 * own table aliases (t0, t1, …), group keys, WHERE filters, public-domain filters and grid values.
 * Every identifier is quoted and every value a typed parameter (sql-text.ts).
 */
import { type ColumnNode, type Decimal, decimalToString, type FilterNode, type GroupKeyNode, integerReciprocal, type JoinNode, type KeyExpression, type LiteralNode, parseDecimal, type TableNode, times } from '../plan/index.ts';
import { ident, type Params } from './sql-text.ts';

export const tableAlias = (i: number): string => ident(`t${i}`);
export const columnSql = (c: ColumnNode): string => `${tableAlias(c.table)}.${ident(c.name)}`;

/** The FROM clause: the first table, then each joined one on its declared unit columns. */
export function fromSql(tables: readonly TableNode[], joins: readonly JoinNode[], separator: string): string {
  return tables
    .map((t, i) => {
      const table = `${ident(t.schema)}.${ident(t.name)} AS ${tableAlias(i)}`;
      if (i === 0) return table;
      const j = joins.find((x) => x.right.table === i)!;
      return `JOIN ${table} ON ${columnSql(j.right)} = ${columnSql(j.left)}`;
    })
    .join(separator);
}

/**
 * Dates and timestamps a date_trunc/extract key is computed for; others (±infinity, years before 1
 * or after 294275) get a NULL key. Without the guard, a date beyond the timestamp range would make
 * `::timestamp` fail, and ±infinity would make `::int8` fail — errors that one row could trigger.
 */
function inKeyRange(col: string, type: string): string {
  const t = type === 'date' ? 'date' : 'timestamp';
  return `${col} >= '0001-01-01'::${t} AND ${col} < '294276-01-01'::${t}`;
}

export function keySql(e: KeyExpression, params: Params): string {
  switch (e.kind) {
    case 'column':
      // Integer keys are int8 whatever the column's width, like the parameters of public domains.
      return e.type === 'integer' ? `${columnSql(e)}::int8` : columnSql(e);
    case 'dateTrunc': {
      const col = columnSql(e.column);
      const unit = params.add(e.unit, 'text');
      const trunc = e.column.type === 'date' ? `date_trunc(${unit}, ${col}::timestamp)::date` : `date_trunc(${unit}, ${col})`;
      return `CASE WHEN ${inKeyRange(col, e.column.type)} THEN ${trunc} END`;
    }
    case 'extract': {
      const col = columnSql(e.column);
      return `CASE WHEN ${inKeyRange(col, e.column.type)} THEN pg_catalog.extract(${params.add(e.field, 'text')}, ${col})::int8 END`;
    }
    case 'caseBucket': {
      const branches = e.branches.map((b) => `WHEN ${filterSql(b.when, params)} THEN ${params.typed(b.then.value, e.type)}`);
      return `CASE ${branches.join(' ')}${e.otherwise === undefined ? '' : ` ELSE ${params.typed(e.otherwise.value, e.type)}`} END`;
    }
  }
}

/** A literal's placeholder: `$n::type`, or a bare `$n` for an untyped literal (raw id columns). */
const literalSql = (l: LiteralNode, params: Params): string => (l.untyped === true ? params.add(l.value) : params.typed(l.value, l.type));

export function filterSql(f: FilterNode, params: Params): string {
  switch (f.kind) {
    case 'compare':
      return `${columnSql(f.column)} ${f.op} ${literalSql(f.value, params)}`;
    case 'between':
      return `${columnSql(f.column)} ${f.negated ? 'NOT BETWEEN' : 'BETWEEN'} ${literalSql(f.low, params)} AND ${literalSql(f.high, params)}`;
    case 'in':
      return `${columnSql(f.column)} ${f.negated ? 'NOT IN' : 'IN'} (${f.values.map((v) => literalSql(v, params)).join(', ')})`;
    case 'isNull':
      return `${columnSql(f.column)} IS ${f.negated ? 'NOT NULL' : 'NULL'}`;
    case 'like':
      return `${columnSql(f.column)} ${f.negated ? 'NOT ' : ''}${f.caseInsensitive ? 'ILIKE' : 'LIKE'} ${params.typed(f.pattern.value, 'text')}`;
    case 'and':
    case 'or':
      return `(${f.args.map((a) => filterSql(a, params)).join(f.kind === 'and' ? ' AND ' : ' OR ')})`;
    case 'not':
      return `NOT (${filterSql(f.arg, params)})`;
  }
}

/**
 * Placeholders of public domains. The filter in `src` needs the first and last value of a contiguous
 * domain, every value otherwise; the VALUES list of a public result needs every value (shared with
 * the IN filter). Only placeholders that appear in the SQL are created: PostgreSQL cannot type an
 * unused parameter.
 */
export class DomainParams {
  readonly #all = new Map<number, string[]>();
  constructor(
    private readonly keys: readonly GroupKeyNode[],
    private readonly params: Params,
  ) {}

  all(i: number): string[] {
    let ph = this.#all.get(i);
    if (ph === undefined) {
      const k = this.keys[i]!;
      const d = k.domain;
      ph = d.kind === 'public' ? d.values.map((v) => this.params.typed(v, k.type)) : [];
      this.#all.set(i, ph);
    }
    return ph;
  }

  filter(i: number, keySql: string): string | undefined {
    const k = this.keys[i]!;
    const d = k.domain;
    if (d.kind !== 'public') return undefined;
    if (!d.contiguous) return `${keySql} IN (${this.all(i).join(', ')})`;
    return `${keySql} BETWEEN ${this.params.typed(d.values[0]!, k.type)} AND ${this.params.typed(d.values[d.values.length - 1]!, k.type)}`;
  }
}

/** Up to this many grid steps from zero, float8 rounding error stays below half a step. */
const FLOAT8_EXACT_GRID = 2n ** 50n;

/** The SQL of a column's grid value x from its raw input `r` (NULL for NULL and NaN). */
export function gridSql(raw: string, column: ColumnNode, lower: bigint, upper: bigint, granularity: string, params: Params): string {
  const r = ident(raw);
  const g: Decimal = parseDecimal(granularity)!;
  if (column.type === 'integer' && granularity === '1') {
    return `CASE WHEN ${r} IS NULL THEN NULL ELSE LEAST(GREATEST(${r}, ${params.add(lower, 'int8')}), ${params.add(upper, 'int8')})::int8 END`;
  }
  const lo = decimalToString(times(lower, g));
  const hi = decimalToString(times(upper, g));
  const scale = integerReciprocal(g);
  const clamped = `LEAST(GREATEST(${r}, ${params.add(lo, 'numeric')}), ${params.add(hi, 'numeric')})`;
  const onGrid = scale !== undefined ? `${clamped} * ${params.add(scale, 'numeric')}` : `${clamped} / ${params.add(granularity, 'numeric')}`;
  const nan = column.type === 'numeric' ? ` OR ${r} = 'NaN'::numeric` : '';
  // A float8 column makes the arithmetic float8 (relative error a few 2^-53): beyond 2^50 grid
  // steps from zero the clamped bound times the scale can round one step outside [lower, upper]
  // (exceeding the sensitivity, or a bin past the histogram's last). Clamp again on the grid there.
  const rounded = `round(${onGrid})::int8`;
  const exact = (lower < 0n ? -lower : lower) <= FLOAT8_EXACT_GRID && (upper < 0n ? -upper : upper) <= FLOAT8_EXACT_GRID;
  const onBounds = exact ? rounded : `LEAST(GREATEST(${rounded}, ${params.add(lower, 'int8')}), ${params.add(upper, 'int8')})`;
  return `CASE WHEN ${r} IS NULL${nan} THEN NULL ELSE ${onBounds} END`;
}
