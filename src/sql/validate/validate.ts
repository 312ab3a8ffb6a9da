/**
 * Step 2: check a parsed query against the dataset policy and turn it into a plan. Exactly the
 * subset of privacy.md is accepted; everything else is refused with `SQL_NOT_ALLOWED` naming the
 * construct, its position and what to write instead. Pure: no warehouse, no clock, no randomness —
 * a refusal costs nothing and reveals nothing.
 */
import type { Node, ResTarget } from 'libpg-query';
import type { Dataset } from '../../policy/schema.ts';
import { aggregateOf, isAggregateCall, type AggregateSpec } from './aggregate.ts';
import { describeNode, kindOf, namesOf, notAllowed, type ParsedSql, positionOf, type SourceText } from '../parse/index.ts';
import { keyDomainOf, keyExpressionOf, keyNameOf, keyTypeOf, looksLikeKey, sameKey } from './group-by.ts';
import { type AggregateDraft, buildPlan, type GroupKeyNode, type KeyExpression, keyColumnsOf, publicGroupCount, type QueryPlan, type SelectItemNode } from '../plan/index.ts';
import { postProcessOf, type OutputContext } from './output-clauses.ts';
import { buildScope, type Scope } from './scope.ts';
import { type ClauseRules, COMMON_CLAUSES, refuseClauses, selectStatementOf, type StatementWording } from './statement.ts';
import { filterOf } from './where.ts';

export interface ValidateOptions {
  /** The most δ the query may use (request or dataset default). 0 forbids private group keys. */
  readonly delta: number;
  /** The dataset's name, recorded in the plan. */
  readonly dataset?: string;
  /** Tables known (from the warehouse catalog, see warehouse/keyed-tables.ts) to hold at most one row per unit. */
  readonly keyedTables?: ReadonlySet<string>;
}

const AGGREGATE_WORDING: StatementWording = {
  noun: 'query',
  multipleHint: 'Send one SELECT statement, without a second statement after a semicolon.',
  notSelect: (name) => `${name} statements are not allowed: dpq answers aggregate SELECT queries only.`,
  notSelectHint: 'Send one SELECT with aggregates, e.g. SELECT region, COUNT(*) FROM visits GROUP BY region.',
};

/** Clauses of a SELECT outside the aggregate subset, refused before anything else is looked at. */
const AGGREGATE_CLAUSES: ClauseRules = {
  ...COMMON_CLAUSES,
  with: { message: 'WITH (common table expressions) is not allowed.', hint: 'Query a dataset table directly, in one SELECT.' },
  into: { message: 'SELECT INTO (creating a table) is not allowed.', hint: 'Remove INTO …; dpq returns results, it never stores them.' },
  locking: { message: 'Locking clauses (FOR UPDATE/SHARE) are not allowed.', hint: 'Remove FOR UPDATE; queries run read-only.' },
  distinct: { message: 'SELECT DISTINCT is not allowed.', hint: 'Use GROUP BY for distinct keys, or COUNT(DISTINCT unit) to count people.' },
  groupDistinct: { message: 'GROUP BY DISTINCT is not allowed.', hint: 'Write GROUP BY with plain keys.' },
};

export const MAX_GROUP_KEYS = 8;
export const MAX_AGGREGATES = 32;
/** Most groups a query over public domains may release (the cross product of its keys' domains). */
export const MAX_PUBLIC_GROUPS = 10_000;

/**
 * Each quantile of each released group costs an exponential-mechanism draw over a 1024-bin
 * histogram in the service's own thread. The number of private groups released depends on the
 * data, and refusing after the charge would be a data-dependent error, so the work is bounded up
 * front: at most MAX_QUANTILES quantiles, over at most MAX_QUANTILE_GROUPS public groups.
 */
export const MAX_QUANTILES = 2;
export const MAX_QUANTILE_GROUPS = 100;

function checkQuantileWork(aggregates: readonly AggregateDraft[], keys: readonly GroupKeyNode[], privatePartitions: boolean): void {
  const quantiles = aggregates.filter((a) => a.fn === 'percentile_cont');
  if (quantiles.length === 0) return;
  const at = quantiles[0]!.position;
  if (quantiles.length > MAX_QUANTILES) {
    throw notAllowed('PERCENTILE_CONT', quantiles[MAX_QUANTILES]!.position, `A query may ask for at most ${MAX_QUANTILES} quantiles.`, 'Split the quantiles over several queries.');
  }
  if (keys.length === 0) return;
  if (privatePartitions || keys.some((k) => k.domain.kind === 'private')) {
    throw notAllowed('PERCENTILE_CONT', at, 'Quantiles are released per group only for groups with public values.', 'Group by a column with public values (e.g. region), or ask for the quantile without GROUP BY.');
  }
  const groups = publicGroupCount(keys);
  if (groups > MAX_QUANTILE_GROUPS) {
    throw notAllowed('PERCENTILE_CONT', at, `Quantiles are released for at most ${MAX_QUANTILE_GROUPS} groups; these keys make ${groups}.`, 'Group by fewer or coarser keys.');
  }
}

/** What the clauses of one aggregate query share while they are read. */
interface QueryContext {
  readonly scope: Scope;
  readonly source: SourceText;
  /** Aggregates so far, shared between identical calls. */
  readonly aggregates: AggregateDraft[];
  readonly identities: Map<string, number>;
}

/** A select-list item: an aggregate now, a key expression matched to GROUP BY later. */
interface Item {
  readonly name: string;
  readonly position: number;
  readonly aggregate?: number;
  readonly key?: KeyExpression;
}

interface KeyExpr {
  readonly expr: KeyExpression;
  readonly position: number;
}

/** The index of this aggregate call, adding it unless an identical one is there. */
function addAggregate(node: Node, ctx: QueryContext): number {
  if (!isAggregateCall(node)) throw new TypeError('not an aggregate');
  const spec: AggregateSpec = aggregateOf(node, ctx);
  const known = ctx.identities.get(spec.identity);
  if (known !== undefined) return known;
  if (ctx.aggregates.length >= MAX_AGGREGATES) throw notAllowed('aggregate', spec.position, 'Too many aggregates.', `Use at most ${MAX_AGGREGATES}.`);
  const { identity, ...draft } = spec;
  ctx.identities.set(identity, ctx.aggregates.length);
  ctx.aggregates.push({ ...draft, index: ctx.aggregates.length });
  return ctx.aggregates.length - 1;
}

function selectItemsOf(targets: readonly Node[], ctx: QueryContext): Item[] {
  const { source } = ctx;
  if (targets.length === 0) throw notAllowed('empty select list', 0, 'The select list is empty.', 'Select aggregates: SELECT COUNT(*) FROM visits.');
  return targets.map((t): Item => {
    if (!('ResTarget' in t)) throw notAllowed(kindOf(t), positionOf(source, t), 'Unexpected select-list item.', 'Select aggregates and group keys.');
    const r: ResTarget = t.ResTarget;
    const position = positionOf(source, t);
    if (r.val === undefined || (r.indirection?.length ?? 0) > 0) throw notAllowed('select item', position, 'Unexpected select-list item.', 'Select aggregates and group keys.');
    const val = r.val;
    if (isAggregateCall(val)) {
      const aggregate = addAggregate(val, ctx);
      return { name: r.name ?? ctx.aggregates[aggregate]!.name, position, aggregate };
    }
    if ('ColumnRef' in val && namesOf(val.ColumnRef.fields).includes('*')) {
      throw notAllowed('SELECT *', positionOf(source, val, position), 'SELECT * is not allowed: dpq releases aggregates, never rows.', 'Name columns inside an aggregate: SELECT COUNT(*), AVG(cost) FROM visits.');
    }
    if (looksLikeKey(val)) {
      const key = keyExpressionOf(val, ctx);
      return { name: r.name ?? keyNameOf(key), position, key };
    }
    const d = describeNode(val, 'in the select list');
    throw notAllowed(d.construct, positionOf(source, val, position), d.message, d.hint);
  });
}

/** GROUP BY: keys by position, by output alias or by expression; every selected key must be one. */
function groupKeysOf(groupClause: readonly Node[], items: readonly Item[], ctx: QueryContext): KeyExpr[] {
  const { scope, source } = ctx;
  const keyExprs: KeyExpr[] = [];
  const addKey = (expr: KeyExpression, position: number): void => {
    if (keyExprs.some((k) => sameKey(k.expr, expr))) return;
    if (keyExprs.length >= MAX_GROUP_KEYS) throw notAllowed('GROUP BY', position, 'Too many group keys.', `Group by at most ${MAX_GROUP_KEYS} keys.`);
    keyExprs.push({ expr, position });
  };
  const fromItem = (item: Item | undefined, position: number, what: string): KeyExpression => {
    if (item === undefined) throw notAllowed('GROUP BY', position, `GROUP BY ${what} is not a select-list item.`, `Use a position between 1 and ${items.length}, a column or an alias.`);
    if (item.key === undefined) throw notAllowed('GROUP BY', position, `GROUP BY ${what} refers to an aggregate.`, 'Group by columns, date_trunc or extract.');
    return item.key;
  };
  for (const g of groupClause) {
    const position = positionOf(source, g);
    if ('A_Const' in g) {
      const n = g.A_Const.ival?.ival ?? (g.A_Const.ival !== undefined ? 0 : NaN);
      if (!Number.isInteger(n)) throw notAllowed('GROUP BY', position, 'GROUP BY takes columns, date_trunc, extract or select-list positions.', 'Write GROUP BY region or GROUP BY 1.');
      addKey(fromItem(items[n - 1], position, String(n)), position);
      continue;
    }
    if ('ColumnRef' in g) {
      const parts = namesOf(g.ColumnRef.fields);
      if (parts.length === 1 && parts[0] !== '*' && scope.tryResolveName(parts[0]!, position) === undefined) {
        const aliased = items.filter((i) => i.name === parts[0]);
        if (aliased.length === 1) {
          addKey(fromItem(aliased[0], position, parts[0]!), position);
          continue;
        }
      }
    }
    if ('GroupingSet' in g) throw notAllowed('GROUPING SETS', position, 'GROUPING SETS, ROLLUP and CUBE are not allowed.', 'Group by plain keys; send one query per grouping.');
    if (!looksLikeKey(g)) {
      const d = describeNode(g, 'in GROUP BY');
      throw notAllowed(d.construct, position, d.message, d.hint);
    }
    addKey(keyExpressionOf(g, ctx), position);
  }
  for (const item of items) {
    if (item.key !== undefined && !keyExprs.some((k) => sameKey(k.expr, item.key!))) {
      const col = keyColumnsOf(item.key)[0]?.name ?? item.name;
      throw notAllowed(`column ${col}`, item.position, `${item.name} is neither aggregated nor a GROUP BY key.`, `Add it to GROUP BY, or aggregate it: COUNT(${col}).`);
    }
  }
  return keyExprs;
}

/** Keys with their domains; private ones need δ > 0. */
function groupKeyNodes(keyExprs: readonly KeyExpr[], ctx: QueryContext, options: ValidateOptions): GroupKeyNode[] {
  const { scope } = ctx;
  const keys: GroupKeyNode[] = keyExprs.map(({ expr, position }, index) => ({
    kind: 'groupKey',
    index,
    expression: expr,
    type: keyTypeOf(expr),
    name: keyNameOf(expr),
    domain: keyDomainOf(expr, ctx, position),
    position,
  }));
  for (const key of keys) {
    if (key.domain.kind === 'private' && !(options.delta > 0)) {
      const col = keyColumnsOf(key.expression)[0]!;
      const sensitive = scope.policyOf(col).sensitivity === 'pii' ? ` (a pii column)` : '';
      throw notAllowed(
        `GROUP BY ${col.name}`,
        key.position,
        `Grouping by ${col.name}${sensitive} needs DP partition selection, because its values are not public (no \`values\` in the policy), and that needs δ > 0; this query has δ = 0.`,
        `Set delta > 0 in the request (e.g. "delta": 1e-7), or group by a column with public values such as ${publicColumns(scope).join(', ') || 'one declared with values'}.`,
      );
    }
  }
  return keys;
}

/**
 * Too many public groups to release them all: select partitions privately instead (the keys
 * still drop values outside their domains), which needs δ > 0.
 */
function needsPrivatePartitions(keys: readonly GroupKeyNode[], options: ValidateOptions): boolean {
  if (keys.length === 0 || !keys.every((k) => k.domain.kind === 'public')) return false;
  const groups = publicGroupCount(keys);
  if (groups <= MAX_PUBLIC_GROUPS) return false;
  if (!(options.delta > 0)) {
    throw notAllowed(
      'GROUP BY',
      keys[0]!.position,
      `These keys make ${groups} public groups, more than the ${MAX_PUBLIC_GROUPS} released in full; that many need DP partition selection, and this query has δ = 0.`,
      'Group by fewer keys, or set delta > 0 in the request (e.g. "delta": 1e-7).',
    );
  }
  return true;
}

/** Validate a parsed query against `dataset` and build its plan; throws SQL_NOT_ALLOWED. */
export function validate(parsed: ParsedSql, dataset: Dataset, options: ValidateOptions): QueryPlan {
  const { source } = parsed;
  const s = selectStatementOf(parsed, AGGREGATE_WORDING);
  refuseClauses(s, parsed, AGGREGATE_CLAUSES);
  const scope = buildScope(s.fromClause ?? [], dataset, source, { keyedTables: options.keyedTables });
  const ctx: QueryContext = { scope, source, aggregates: [], identities: new Map() };
  const items = selectItemsOf(s.targetList ?? [], ctx);
  const keyExprs = groupKeysOf(s.groupClause ?? [], items, ctx);
  const keys = groupKeyNodes(keyExprs, ctx, options);
  const privatePartitions = needsPrivatePartitions(keys, options);

  const select: SelectItemNode[] = items.map((item) => ({
    kind: 'selectItem',
    name: item.name,
    ref: item.aggregate !== undefined
      ? { kind: 'aggregateRef', aggregate: item.aggregate }
      : { kind: 'keyRef', key: keyExprs.findIndex((k) => sameKey(k.expr, item.key!)) },
    position: item.position,
  }));

  const filter = s.whereClause === undefined ? undefined : filterOf(s.whereClause, { scope, source });

  const outputs: OutputContext = {
    source,
    select,
    aggregate: (node) => addAggregate(node, ctx),
    keyOf(node: Node): number | undefined {
      const expr = keyExpressionOf(node, ctx);
      const i = keyExprs.findIndex((k) => sameKey(k.expr, expr));
      return i < 0 ? undefined : i;
    },
    keyType: (key: number) => keys[key]!.type,
    isInputColumn: (name: string) => scope.tryResolveName(name, 0) !== undefined,
  };
  const post = postProcessOf(
    { having: s.havingClause, sort: s.sortClause ?? [], limit: s.limitCount, offset: s.limitOffset },
    outputs,
  );

  checkQuantileWork(ctx.aggregates, keys, privatePartitions);

  return buildPlan({
    dataset: options.dataset,
    tables: scope.tables,
    joins: scope.joins,
    unit: { kind: 'column', table: 0, name: scope.tables[0]!.unit, type: 'id', position: scope.tables[0]!.position },
    filter,
    keys,
    aggregates: ctx.aggregates,
    select,
    post,
    privatePartitions,
  });
}

function publicColumns(scope: Scope): string[] {
  return scope.tables.flatMap((t) =>
    Object.entries(scope.tablePolicy(t.index).columns)
      .filter(([, c]) => c.values !== undefined && c.aggregate)
      .map(([name]) => name),
  );
}
