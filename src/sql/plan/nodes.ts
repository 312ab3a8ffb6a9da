/**
 * Step 3: the query plan, the boundary between the SQL front end and everything after it (cost,
 * compile, noise, post-processing). An immutable tagged tree in the style of kysely's operation
 * nodes: every node is a frozen object with a `readonly kind`, built only through `buildPlan` (build.ts).
 *
 * Values in the plan are exact: integers are bigint, numeric literals canonical decimal strings,
 * dates `YYYY-MM-DD`, timestamps `YYYY-MM-DD HH:MM:SS[.ffffff]`; bounds, centres and histograms
 * are in grid units (value / granularity). Positions are indexes into the SQL text (source.ts).
 */
import type { ColumnType } from '../../policy/schema.ts';
import type { HistogramSpec } from './histogram.ts';
import type { PlanSensitivity } from './sensitivity.ts';

/** The SQL types a literal, a key or a domain value can have. */
export type ValueType = 'integer' | 'numeric' | 'text' | 'boolean' | 'date' | 'timestamp';
export type Value = bigint | string | boolean;

export interface TableNode {
  readonly kind: 'table';
  readonly index: number;
  readonly schema: string;
  readonly name: string;
  readonly alias: string | undefined;
  readonly unit: string;
  readonly maxRowsPerUnit: number;
  readonly maxGroupsPerUnit: number;
  /** At most one row per unit, known from the warehouse catalog (a unique index on the unit). */
  readonly keyed: boolean;
  readonly position: number;
}

export interface ColumnNode {
  readonly kind: 'column';
  /** Index into `plan.tables`. */
  readonly table: number;
  readonly name: string;
  readonly type: ColumnType;
  readonly position: number;
}

/** An inner equi-join on unit columns declared in the policy: `right` belongs to the joined table. */
export interface JoinNode {
  readonly kind: 'join';
  readonly left: ColumnNode;
  readonly right: ColumnNode;
}

export interface LiteralNode {
  readonly kind: 'literal';
  readonly type: ValueType;
  readonly value: Value;
  readonly position: number;
  /**
   * Sent as a bare `$n` that PostgreSQL types from the column (raw queries' id columns, whose SQL
   * type the policy does not name); `value` is then the literal's text. Never in aggregate plans.
   */
  readonly untyped?: true;
}

/** The comparisons WHERE and HAVING accept, in every query kind. */
export const COMPARISON_OPERATORS = ['=', '<>', '<', '<=', '>', '>='] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];
export const isComparison = (op: string): op is ComparisonOperator => (COMPARISON_OPERATORS as readonly string[]).includes(op);

export interface CompareNode {
  readonly kind: 'compare';
  readonly column: ColumnNode;
  readonly op: ComparisonOperator;
  readonly value: LiteralNode;
}
export interface BetweenNode {
  readonly kind: 'between';
  readonly column: ColumnNode;
  readonly negated: boolean;
  readonly low: LiteralNode;
  readonly high: LiteralNode;
}
export interface InNode {
  readonly kind: 'in';
  readonly column: ColumnNode;
  readonly negated: boolean;
  readonly values: readonly LiteralNode[];
}
export interface IsNullNode {
  readonly kind: 'isNull';
  readonly column: ColumnNode;
  readonly negated: boolean;
}
export interface LikeNode {
  readonly kind: 'like';
  readonly column: ColumnNode;
  readonly negated: boolean;
  readonly caseInsensitive: boolean;
  readonly pattern: LiteralNode;
}
export interface AndNode {
  readonly kind: 'and';
  readonly args: readonly FilterNode[];
}
export interface OrNode {
  readonly kind: 'or';
  readonly args: readonly FilterNode[];
}
export interface NotNode {
  readonly kind: 'not';
  readonly arg: FilterNode;
}
export type FilterNode = CompareNode | BetweenNode | InNode | IsNullNode | LikeNode | AndNode | OrNode | NotNode;

export const DATE_TRUNC_UNITS = ['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'] as const;
export type DateTruncUnit = (typeof DATE_TRUNC_UNITS)[number];
export const EXTRACT_FIELDS = ['minute', 'hour', 'day', 'dow', 'isodow', 'doy', 'week', 'month', 'quarter', 'year', 'isoyear'] as const;
export type ExtractField = (typeof EXTRACT_FIELDS)[number];

export interface DateTruncNode {
  readonly kind: 'dateTrunc';
  readonly unit: DateTruncUnit;
  readonly column: ColumnNode;
}
export interface ExtractNode {
  readonly kind: 'extract';
  readonly field: ExtractField;
  readonly column: ColumnNode;
}
/**
 * `CASE WHEN <condition> THEN <literal> … [ELSE <literal>] END` as a group key: conditions follow the
 * WHERE rules, results are literals of one type. Its domain is the listed results (public); a row
 * no branch matches, without ELSE, has a NULL key and is dropped like any value outside a domain.
 */
export interface CaseBucketNode {
  readonly kind: 'caseBucket';
  readonly branches: readonly { readonly when: FilterNode; readonly then: LiteralNode }[];
  readonly otherwise: LiteralNode | undefined;
  readonly type: ValueType;
  readonly position: number;
}
export type KeyExpression = ColumnNode | DateTruncNode | ExtractNode | CaseBucketNode;

/** The columns a key expression reads. */
export function keyColumnsOf(e: KeyExpression): ColumnNode[] {
  if (e.kind === 'column') return [e];
  if (e.kind !== 'caseBucket') return [e.column];
  const out: ColumnNode[] = [];
  const walk = (f: FilterNode): void => {
    if (f.kind === 'and' || f.kind === 'or') f.args.forEach(walk);
    else if (f.kind === 'not') walk(f.arg);
    else out.push(f.column);
  };
  e.branches.forEach((b) => walk(b.when));
  return out;
}

/**
 * Where a key's released values come from. `public`: exactly `values` (declared in the policy, or
 * derived from the column's bounds for date_trunc/extract), each released even when empty, anything
 * else dropped — including NULL. `private`: the values found in the data, released only when they
 * pass DP partition selection (NULL is then a key like any other).
 */
export type DomainNode =
  | {
      readonly kind: 'public';
      readonly source: 'policy' | 'derived';
      readonly values: readonly Value[];
      /** Every value of the key between the first and last value is in the domain (derived domains). */
      readonly contiguous: boolean;
    }
  | { readonly kind: 'private' };

export interface GroupKeyNode {
  readonly kind: 'groupKey';
  readonly index: number;
  readonly expression: KeyExpression;
  /** The type of the key's values. */
  readonly type: ValueType;
  /** PostgreSQL's default output name for the expression. */
  readonly name: string;
  readonly domain: DomainNode;
  readonly position: number;
}

export type AggregateFunction =
  | 'count'
  | 'count_distinct_units'
  | 'sum'
  | 'avg'
  | 'var_samp'
  | 'var_pop'
  | 'stddev_samp'
  | 'stddev_pop'
  | 'percentile_cont';

/** A bounded column's clamping range and grid. */
export interface BoundsNode {
  readonly kind: 'bounds';
  /** Clamping range in grid units (the policy bounds moved inward onto the grid). */
  readonly lower: bigint;
  readonly upper: bigint;
  /** Grid step as a decimal string (`0.01`; `1` for integers). */
  readonly granularity: string;
}

export interface AggregateNode {
  readonly kind: 'aggregate';
  readonly index: number;
  readonly fn: AggregateFunction;
  /** Undefined for COUNT(*). */
  readonly column: ColumnNode | undefined;
  /** PostgreSQL's default output name (`count`, `avg`, …). */
  readonly name: string;
  readonly bounds: BoundsNode | undefined;
  /** For percentile_cont (and MEDIAN = 0.5). */
  readonly percentile: number | undefined;
  /**
   * `FILTER (WHERE …)`: the rows the aggregate reads, among a person's bounded rows (the WHERE
   * rules). Bounding ignores it, so the sensitivities are those of the unfiltered aggregate.
   */
  readonly filter: FilterNode | undefined;
  /** Indexes into `plan.measurements`, in the order listed in `MEASURES_OF`. */
  readonly measurements: readonly number[];
  readonly position: number;
}

export type MeasureKind = 'count' | 'sum' | 'sumsq' | 'histogram';

/** One exact integer (per group) that the noise step perturbs. */
export interface MeasurementNode {
  readonly kind: 'measurement';
  readonly index: number;
  readonly aggregate: number;
  readonly measure: MeasureKind;
  /**
   * What a count counts: bounded rows; `values` — for COUNT(col) the non-NULL values (NaN counts, as
   * in PostgreSQL), inside AVG/VARIANCE the values that entered the sums (neither NULL nor NaN);
   * or distinct units.
   */
  readonly counts: 'rows' | 'values' | 'units' | undefined;
  /** Grid value subtracted from every value before summing (0 for SUM; the bounds' midpoint for AVG/VARIANCE). */
  readonly center: bigint;
  readonly histogram: HistogramSpec | undefined;
  readonly sensitivity: PlanSensitivity;
}

/** Which measurements each aggregate releases (the noise step combines them). */
export const MEASURES_OF: Readonly<Record<AggregateFunction, readonly MeasureKind[]>> = Object.freeze({
  count: ['count'],
  count_distinct_units: ['count'],
  sum: ['sum'],
  avg: ['sum', 'count'],
  var_samp: ['count', 'sum', 'sumsq'],
  var_pop: ['count', 'sum', 'sumsq'],
  stddev_samp: ['count', 'sum', 'sumsq'],
  stddev_pop: ['count', 'sum', 'sumsq'],
  percentile_cont: ['histogram'],
});

/** How the groups of the result are chosen. */
export type PartitionsNode =
  | { readonly kind: 'none' }
  | { readonly kind: 'public'; readonly groups: number }
  | {
      readonly kind: 'private';
      /** Of the per-group distinct-unit count that DP partition selection thresholds. */
      readonly sensitivity: PlanSensitivity;
    };

/** Contribution bounding: what compile enforces before aggregation. */
export interface BoundingNode {
  readonly kind: 'bounding';
  readonly maxRowsPerUnit: number;
  /** Never above maxRowsPerUnit; 1 without GROUP BY. */
  readonly maxGroupsPerUnit: number;
  /** False when every table is keyed by its unit: one row per person, nothing to bound. */
  readonly needed: boolean;
}

export type OperandNode =
  | { readonly kind: 'keyRef'; readonly key: number; readonly position: number }
  | { readonly kind: 'aggregateRef'; readonly aggregate: number; readonly position: number }
  | LiteralNode;

/** HAVING, evaluated on released (noisy) values. */
export type PredicateNode =
  | { readonly kind: 'compare'; readonly op: ComparisonOperator; readonly left: OperandNode; readonly right: OperandNode }
  | { readonly kind: 'between'; readonly negated: boolean; readonly operand: OperandNode; readonly low: OperandNode; readonly high: OperandNode }
  | { readonly kind: 'isNull'; readonly negated: boolean; readonly operand: OperandNode }
  | { readonly kind: 'and'; readonly args: readonly PredicateNode[] }
  | { readonly kind: 'or'; readonly args: readonly PredicateNode[] }
  | { readonly kind: 'not'; readonly arg: PredicateNode };

export type OutputRef =
  | { readonly kind: 'keyRef'; readonly key: number }
  | { readonly kind: 'aggregateRef'; readonly aggregate: number };

/** One column of the released result, in select-list order. */
export interface SelectItemNode {
  readonly kind: 'selectItem';
  readonly name: string;
  readonly ref: OutputRef;
  readonly position: number;
}

export interface OrderByNode {
  readonly kind: 'orderBy';
  readonly ref: OutputRef;
  readonly direction: 'asc' | 'desc';
  readonly nulls: 'first' | 'last' | 'default';
}

export interface PostProcessNode {
  readonly kind: 'postProcess';
  readonly having: PredicateNode | undefined;
  readonly orderBy: readonly OrderByNode[];
  readonly limit: bigint | undefined;
  readonly offset: bigint | undefined;
}

export interface QueryPlan {
  readonly kind: 'query';
  readonly dataset: string | undefined;
  readonly tables: readonly TableNode[];
  readonly joins: readonly JoinNode[];
  /** The unit column of the first table (all tables are joined on it). */
  readonly unit: ColumnNode;
  readonly bounding: BoundingNode;
  readonly filter: FilterNode | undefined;
  readonly keys: readonly GroupKeyNode[];
  readonly partitions: PartitionsNode;
  readonly aggregates: readonly AggregateNode[];
  readonly measurements: readonly MeasurementNode[];
  readonly select: readonly SelectItemNode[];
  readonly post: PostProcessNode;
}
