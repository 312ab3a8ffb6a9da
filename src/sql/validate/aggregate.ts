/**
 * The aggregate functions of the subset, each over one plain column (or `*`): COUNT(*),
 * COUNT(col), COUNT(DISTINCT unit), SUM, AVG, VARIANCE/VAR_POP/VAR_SAMP, STDDEV/STDDEV_POP/
 * STDDEV_SAMP, PERCENTILE_CONT(p) WITHIN GROUP (ORDER BY col) and MEDIAN(col) (= p 0.5).
 * Every aggregate but COUNT needs a number column with policy `bounds`, which are moved onto the
 * column's granularity grid here (inward, so clamped values stay inside the bounds).
 */
import type { FuncCall, Node } from 'libpg-query';
import { describeNode, namesOf, notAllowed, positionOf, type SourceText } from '../parse/index.ts';
import { type AggregateDraft, type AggregateFunction, type BoundsNode, ceilQuotient, type ColumnNode, decimalOfNumber, decimalToString, type FilterNode, filterText, floorQuotient, parseDecimal } from '../plan/index.ts';
import { numberLiteral } from './literal.ts';
import type { Scope } from './scope.ts';
import { filterOf } from './where.ts';

const FUNCTIONS: Readonly<Record<string, AggregateFunction>> = {
  count: 'count',
  sum: 'sum',
  avg: 'avg',
  variance: 'var_samp',
  var_samp: 'var_samp',
  var_pop: 'var_pop',
  stddev: 'stddev_samp',
  stddev_samp: 'stddev_samp',
  stddev_pop: 'stddev_pop',
  percentile_cont: 'percentile_cont',
  median: 'percentile_cont',
};

/** Grid values beyond ±2^61 are refused, so that x − c, hi − lo and friends stay inside int8. */
const GRID_LIMIT = 2n ** 61n;

export interface AggregateContext {
  readonly scope: Scope;
  readonly source: SourceText;
}

/** The aggregate as found, with a key that is equal for identical aggregates (to share one release). */
export type AggregateSpec = Omit<AggregateDraft, 'index'> & { readonly identity: string };

/** The call names one of the allowed aggregate functions (it may still be refused by `aggregateOf`). */
export function isAggregateCall(node: Node): node is { FuncCall: FuncCall } {
  if (!('FuncCall' in node)) return false;
  const name = namesOf(node.FuncCall.funcname);
  return name.length === 1 && Object.hasOwn(FUNCTIONS, name[0]!);
}

/** The policy bounds of a column on its grid, or undefined when the column has none. */
export function gridBounds(scope: Scope, column: ColumnNode, position: number): BoundsNode | undefined {
  const p = scope.policyOf(column);
  if (p.bounds === undefined || (column.type !== 'integer' && column.type !== 'numeric')) return undefined;
  const [lo, hi] = p.bounds;
  if (typeof lo !== 'number' || typeof hi !== 'number') return undefined;
  const g = decimalOfNumber(p.granularity ?? 1);
  const lower = ceilQuotient(decimalOfNumber(lo), g);
  const upper = floorQuotient(decimalOfNumber(hi), g);
  if (lower > upper || lower < -GRID_LIMIT || upper > GRID_LIMIT) {
    throw notAllowed(`column ${column.name}`, position, `The policy bounds of ${column.name} do not fit its granularity grid.`, 'Ask a policy admin to fix its bounds and granularity.');
  }
  return { kind: 'bounds', lower, upper, granularity: decimalToString(g) };
}

export function aggregateOf(node: { FuncCall: FuncCall }, ctx: AggregateContext): AggregateSpec {
  const f = node.FuncCall;
  const written = namesOf(f.funcname)[0]!;
  const fn = FUNCTIONS[written]!;
  const position = positionOf(ctx.source, node);
  const upper = written.toUpperCase();
  const refuse = (construct: string, message: string, hint: string): Error => notAllowed(construct, position, message, hint);
  if (f.over !== undefined) {
    throw refuse('window function', `${upper} … OVER is a window function, which is not allowed.`, 'Use plain aggregates with GROUP BY.');
  }
  const filter = f.agg_filter === undefined ? undefined : aggregateFilterOf(f.agg_filter, ctx, upper);
  if (f.func_variadic === true) throw refuse('VARIADIC', 'VARIADIC is not allowed.', `Write ${upper}(column).`);
  const within = f.agg_within_group === true;
  if (fn !== 'percentile_cont' && (within || (f.agg_order?.length ?? 0) > 0)) {
    throw refuse('ORDER BY in an aggregate', `${upper} takes no ORDER BY.`, `Write ${upper}(column).`);
  }

  const plainColumn = (arg: Node | undefined): ColumnNode => {
    if (arg === undefined) throw refuse(`${upper}()`, `${upper} needs one column.`, `Write ${upper}(column).`);
    if (!('ColumnRef' in arg)) {
      const d = describeNode(arg, `inside ${upper}()`);
      throw notAllowed(d.construct, positionOf(ctx.source, arg, position), d.message, d.construct.startsWith('operator') ? d.hint : `Aggregate a plain column: ${upper}(cost). ${d.hint}`);
    }
    const column = ctx.scope.resolve(arg.ColumnRef, `inside ${upper}()`);
    if (!ctx.scope.policyOf(column).aggregate) {
      throw notAllowed(`column ${column.name}`, column.position, `The column ${column.name} is excluded from aggregate queries (aggregate: false).`, 'Remove it from the query; it can only be seen under an approved raw-access grant.');
    }
    return column;
  };
  const bounded = (column: ColumnNode): BoundsNode => {
    if (column.type !== 'integer' && column.type !== 'numeric') {
      throw notAllowed(`${upper}(${column.name})`, column.position, `${upper} needs a number column; ${column.name} is ${column.type}.`, `Use COUNT(${column.name}) or group by it.`);
    }
    const b = gridBounds(ctx.scope, column, column.position);
    if (b === undefined) {
      throw notAllowed(`${upper}(${column.name})`, column.position, `${upper}(${column.name}) needs bounds for ${column.name} in the policy, to clamp each value.`, `Use COUNT(${column.name}), or ask a policy admin to declare bounds for ${column.name}.`);
    }
    return b;
  };
  const args = f.args ?? [];
  const draft = (fnName: AggregateFunction, column: ColumnNode | undefined, bounds: BoundsNode | undefined, percentile?: number): AggregateSpec => ({
    kind: 'aggregate',
    fn: fnName,
    column,
    name: written,
    bounds,
    percentile,
    filter,
    position,
    identity: `${fnName}|${column === undefined ? '*' : `${column.table}.${column.name}`}|${percentile ?? ''}|${filter === undefined ? '' : filterText(filter)}`,
  });

  if (fn === 'count') {
    if (f.agg_star === true) return draft('count', undefined, undefined);
    if (args.length !== 1) throw refuse('COUNT()', 'COUNT takes one column or *.', 'Write COUNT(*) or COUNT(column).');
    const column = plainColumn(args[0]);
    if (f.agg_distinct === true) {
      if (!ctx.scope.isUnit(column)) {
        throw refuse('COUNT(DISTINCT)', `COUNT(DISTINCT ${column.name}) is not allowed: only the unit column can be counted distinct.`, `Count people with COUNT(DISTINCT ${ctx.scope.tables[0]!.unit}), or group by ${column.name}.`);
      }
      if (filter !== undefined) {
        throw refuse('FILTER', `COUNT(DISTINCT ${column.name}) FILTER (WHERE …) is not supported.`, 'Move the condition to WHERE, or count rows with COUNT(*) FILTER (WHERE …).');
      }
      return draft('count_distinct_units', column, undefined);
    }
    return draft('count', column, undefined);
  }
  if (f.agg_star === true) throw refuse(`${upper}(*)`, `${upper}(*) is not allowed.`, `Write ${upper}(column).`);
  if (f.agg_distinct === true) throw refuse(`${upper}(DISTINCT)`, `DISTINCT inside ${upper} is not allowed.`, `Write ${upper}(column).`);

  if (fn === 'percentile_cont' && written === 'percentile_cont') {
    if (!within || args.length !== 1 || f.agg_order?.length !== 1) {
      throw refuse('PERCENTILE_CONT', 'PERCENTILE_CONT needs one fraction and WITHIN GROUP (ORDER BY column).', 'Write PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY cost).');
    }
    const text = numberLiteral(args[0]!);
    const d = text === undefined ? undefined : parseDecimal(text);
    const p = text === undefined ? NaN : Number(text);
    if (d === undefined || !(p >= 0 && p <= 1)) {
      throw notAllowed('PERCENTILE_CONT', positionOf(ctx.source, args[0], position), 'The fraction of PERCENTILE_CONT must be a number literal between 0 and 1.', 'Write PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY cost).');
    }
    const sort = f.agg_order[0]!;
    if (!('SortBy' in sort)) throw refuse('PERCENTILE_CONT', 'Unexpected ORDER BY.', 'Write WITHIN GROUP (ORDER BY column).');
    const s = sort.SortBy;
    if ((s.sortby_dir !== undefined && s.sortby_dir !== 'SORTBY_DEFAULT' && s.sortby_dir !== 'SORTBY_ASC') || (s.useOp?.length ?? 0) > 0) {
      throw refuse('PERCENTILE_CONT', 'Only ascending order is supported inside WITHIN GROUP.', 'Write WITHIN GROUP (ORDER BY cost) and use 1 − p for a descending fraction.');
    }
    const column = plainColumn(s.node);
    return draft('percentile_cont', column, bounded(column), p);
  }
  if (args.length !== 1) throw refuse(`${upper}()`, `${upper} takes exactly one column.`, `Write ${upper}(column).`);
  const column = plainColumn(args[0]);
  return draft(fn, column, bounded(column), fn === 'percentile_cont' ? 0.5 : undefined);
}

/**
 * `FILTER (WHERE …)`: the WHERE rules exactly (comparisons of a column with literals, AND/OR/NOT),
 * refusals worded for FILTER — a subquery, a function or arithmetic there is refused like in WHERE.
 */
function aggregateFilterOf(node: Node, ctx: AggregateContext, upper: string): FilterNode {
  return filterOf(node, {
    scope: ctx.scope,
    source: ctx.source,
    refusal: (n) => {
      const d = describeNode(n, `in ${upper}(…) FILTER (WHERE …)`);
      return notAllowed(d.construct, positionOf(ctx.source, n), d.message, d.hint);
    },
  });
}
