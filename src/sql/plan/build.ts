/**
 * Building the plan: validation's parts plus contribution bounding, measurements with their
 * sensitivities (sensitivity.ts) and the partition kind, frozen into the immutable tree of nodes.ts.
 */
import { histogramSpec, type HistogramSpec } from './histogram.ts';
import type {
  AggregateNode,
  ColumnNode,
  FilterNode,
  GroupKeyNode,
  JoinNode,
  MeasurementNode,
  PartitionsNode,
  PostProcessNode,
  QueryPlan,
  SelectItemNode,
  TableNode,
} from './nodes.ts';
import { MEASURES_OF } from './nodes.ts';
import {
  countSensitivity,
  sumOfSquaresSensitivity,
  sumSensitivity,
  unitsSensitivity,
  type PlanSensitivity,
} from './sensitivity.ts';

/**
 * Deep-freeze a freshly built node tree (bigints and strings are immutable already). Recurses into
 * objects that are already (shallowly) frozen, such as the scope's table list.
 */
export function freeze<T>(value: T, seen: WeakSet<object> = new WeakSet()): T {
  if (value !== null && typeof value === 'object' && !seen.has(value)) {
    seen.add(value);
    for (const v of Object.values(value)) freeze(v, seen);
    Object.freeze(value);
  }
  return value;
}

/** An aggregate as validation found it, before measurements are attached. */
export type AggregateDraft = Omit<AggregateNode, 'measurements'>;

export interface PlanParts {
  readonly dataset: string | undefined;
  readonly tables: readonly TableNode[];
  readonly joins: readonly JoinNode[];
  readonly unit: ColumnNode;
  readonly filter: FilterNode | undefined;
  readonly keys: readonly GroupKeyNode[];
  readonly aggregates: readonly AggregateDraft[];
  readonly select: readonly SelectItemNode[];
  readonly post: PostProcessNode;
  /** Select partitions privately even though every key has a public domain (too many groups). */
  readonly privatePartitions?: boolean;
}

/**
 * Combined contribution bounds of the FROM clause. Tables are inner-joined on their unit columns,
 * so a person's joined rows are the product of their rows in each table: the natural bound is the
 * product of the tables' maxRowsPerUnit (and of their maxGroupsPerUnit), enforced on the join result.
 */
export function combinedBounds(tables: readonly TableNode[], grouped: boolean): { m: number; k: number } {
  const m = tables.reduce((acc, t) => acc * t.maxRowsPerUnit, 1);
  const k = grouped ? Math.min(m, tables.reduce((acc, t) => acc * t.maxGroupsPerUnit, 1)) : 1;
  return { m, k };
}

/**
 * Attach bounding, measurements (with their sensitivities, from sensitivity.ts) and the partition
 * kind to what validation found, and freeze the whole tree.
 */
export function buildPlan(parts: PlanParts): QueryPlan {
  const grouped = parts.keys.length > 0;
  const { m, k } = combinedBounds(parts.tables, grouped);
  const M = BigInt(m);
  const K = BigInt(k);
  const measurements: MeasurementNode[] = [];
  const aggregates: AggregateNode[] = parts.aggregates.map((a) => {
    const ids: number[] = [];
    for (const measure of MEASURES_OF[a.fn]) {
      const b = a.bounds;
      const centered = a.fn !== 'sum';
      const center = b === undefined || !centered ? 0n : floorHalf(b.lower + b.upper);
      const deviation = b === undefined ? 0n : maxBig(abs(b.upper - center), abs(center - b.lower));
      let sensitivity: PlanSensitivity;
      let counts: MeasurementNode['counts'];
      let histogram: HistogramSpec | undefined;
      switch (measure) {
        case 'count':
          counts = a.fn === 'count_distinct_units' ? 'units' : a.fn === 'count' && a.column === undefined ? 'rows' : 'values';
          sensitivity = counts === 'units' ? unitsSensitivity(K) : countSensitivity(M);
          break;
        case 'sum':
          sensitivity = sumSensitivity(M, deviation);
          break;
        case 'sumsq':
          sensitivity = sumOfSquaresSensitivity(M, deviation);
          break;
        case 'histogram':
          histogram = histogramSpec(b!.lower, b!.upper);
          sensitivity = countSensitivity(M);
          break;
      }
      ids.push(measurements.length);
      measurements.push({
        kind: 'measurement',
        index: measurements.length,
        aggregate: a.index,
        measure,
        counts: measure === 'count' ? counts : undefined,
        center: measure === 'sum' || measure === 'sumsq' ? center : 0n,
        histogram,
        sensitivity,
      });
    }
    return { ...a, measurements: ids };
  });

  const anyPrivate = parts.privatePartitions === true || parts.keys.some((key) => key.domain.kind === 'private');
  const partitions: PartitionsNode = !grouped
    ? { kind: 'none' }
    : anyPrivate
      ? { kind: 'private', sensitivity: unitsSensitivity(K) }
      : { kind: 'public', groups: publicGroupCount(parts.keys) };

  return freeze<QueryPlan>({
    kind: 'query',
    dataset: parts.dataset,
    tables: parts.tables,
    joins: parts.joins,
    unit: parts.unit,
    bounding: {
      kind: 'bounding',
      maxRowsPerUnit: m,
      maxGroupsPerUnit: k,
      needed: !parts.tables.every((t) => t.keyed),
    },
    filter: parts.filter,
    keys: parts.keys,
    partitions,
    aggregates,
    measurements,
    select: parts.select,
    post: parts.post,
  });
}

/** The number of groups of a query whose keys all have public domains (their cross product). */
export function publicGroupCount(keys: readonly GroupKeyNode[]): number {
  return keys.reduce((n, key) => n * (key.domain.kind === 'public' ? key.domain.values.length : NaN), 1);
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);
const maxBig = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const floorHalf = (x: bigint): bigint => (x >= 0n ? x / 2n : -((-x + 1n) / 2n));
