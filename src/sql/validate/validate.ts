/**
 * Step 2: check a parsed query against the dataset policy and turn it into a plan. Exactly the
 * subset of privacy.md is accepted; everything else is refused with `SQL_NOT_ALLOWED` naming the
 * construct, its position and what to write instead. Pure: no warehouse, no clock, no randomness —
 * a refusal costs nothing and reveals nothing.
 */
import type { Node, ResTarget } from 'libpg-query';
import type { Dataset } from '../../policy/schema.ts';
import { aggregateOf, isAggregateCall, type AggregateSpec } from './aggregate.ts';
import { describeNode, kindOf, namesOf, notAllowed, type ParsedSql, positionOf } from '../parse/index.ts';
import { keyDomainOf, keyExpressionOf, keyNameOf, keyTypeOf, looksLikeKey, sameKey } from './group-by.ts';
import { type AggregateDraft, buildPlan, type GroupKeyNode, type KeyExpression, publicGroupCount, type QueryPlan, type SelectItemNode } from '../plan/index.ts';
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

/** Validate a parsed query against `dataset` and build its plan; throws SQL_NOT_ALLOWED. */
export function validate(parsed: ParsedSql, dataset: Dataset, options: ValidateOptions): QueryPlan {
  const { source } = parsed;
  const s = selectStatementOf(parsed, AGGREGATE_WORDING);
  refuseClauses(s, parsed, AGGREGATE_CLAUSES);
  const scope = buildScope(s.fromClause ?? [], dataset, source, { keyedTables: options.keyedTables });

  // Aggregates, shared between identical calls.
  const aggregates: AggregateDraft[] = [];
  const identities = new Map<string, number>();
  const addAggregate = (node: Node): number => {
    if (!isAggregateCall(node)) throw new TypeError('not an aggregate');
    const spec: AggregateSpec = aggregateOf(node, { scope, source });
    const known = identities.get(spec.identity);
    if (known !== undefined) return known;
    if (aggregates.length >= MAX_AGGREGATES) throw notAllowed('aggregate', spec.position, 'Too many aggregates.', `Use at most ${MAX_AGGREGATES}.`);
    const { identity, ...draft } = spec;
    identities.set(identity, aggregates.length);
    aggregates.push({ ...draft, index: aggregates.length });
    return aggregates.length - 1;
  };

  // Select list: aggregates now, key expressions once GROUP BY is known.
  const targets = s.targetList ?? [];
  if (targets.length === 0) throw notAllowed('empty select list', 0, 'The select list is empty.', 'Select aggregates: SELECT COUNT(*) FROM visits.');
  type Item = { name: string; position: number; aggregate?: number; key?: KeyExpression };
  const items: Item[] = targets.map((t) => {
    if (!('ResTarget' in t)) throw notAllowed(kindOf(t), positionOf(source, t), 'Unexpected select-list item.', 'Select aggregates and group keys.');
    const r: ResTarget = t.ResTarget;
    const position = positionOf(source, t);
    if (r.val === undefined || (r.indirection?.length ?? 0) > 0) throw notAllowed('select item', position, 'Unexpected select-list item.', 'Select aggregates and group keys.');
    const val = r.val;
    if (isAggregateCall(val)) {
      const aggregate = addAggregate(val);
      return { name: r.name ?? aggregates[aggregate]!.name, position, aggregate };
    }
    if ('ColumnRef' in val && namesOf(val.ColumnRef.fields).includes('*')) {
      throw notAllowed('SELECT *', positionOf(source, val, position), 'SELECT * is not allowed: dpq releases aggregates, never rows.', 'Name columns inside an aggregate: SELECT COUNT(*), AVG(cost) FROM visits.');
    }
    if (looksLikeKey(val)) {
      const key = keyExpressionOf(val, { scope, source });
      return { name: r.name ?? keyNameOf(key), position, key };
    }
    const d = describeNode(val, 'in the select list');
    throw notAllowed(d.construct, positionOf(source, val, position), d.message, d.hint);
  });

  // GROUP BY.
  const keyExprs: { expr: KeyExpression; position: number }[] = [];
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
  for (const g of s.groupClause ?? []) {
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
    addKey(keyExpressionOf(g, { scope, source }), position);
  }
  for (const item of items) {
    if (item.key !== undefined && !keyExprs.some((k) => sameKey(k.expr, item.key!))) {
      const col = item.key.kind === 'column' ? item.key.name : item.key.column.name;
      throw notAllowed(`column ${col}`, item.position, `${item.name} is neither aggregated nor a GROUP BY key.`, `Add it to GROUP BY, or aggregate it: COUNT(${col}).`);
    }
  }

  // Keys with their domains; private ones need δ > 0.
  const keys: GroupKeyNode[] = keyExprs.map(({ expr, position }, index) => ({
    kind: 'groupKey',
    index,
    expression: expr,
    type: keyTypeOf(expr),
    name: keyNameOf(expr),
    domain: keyDomainOf(expr, { scope, source }, position),
    position,
  }));
  for (const key of keys) {
    if (key.domain.kind === 'private' && !(options.delta > 0)) {
      const col = key.expression.kind === 'column' ? key.expression : key.expression.column;
      const sensitive = scope.policyOf(col).sensitivity === 'pii' ? ` (a pii column)` : '';
      throw notAllowed(
        `GROUP BY ${col.name}`,
        key.position,
        `Grouping by ${col.name}${sensitive} needs DP partition selection, because its values are not public (no \`values\` in the policy), and that needs δ > 0; this query has δ = 0.`,
        `Set delta > 0 in the request (e.g. "delta": 1e-7), or group by a column with public values such as ${publicColumns(scope).join(', ') || 'one declared with values'}.`,
      );
    }
  }
  // Too many public groups to release them all: select partitions privately instead (the keys
  // still drop values outside their domains), which needs δ > 0.
  let privatePartitions = false;
  if (keys.length > 0 && keys.every((k) => k.domain.kind === 'public')) {
    const groups = publicGroupCount(keys);
    if (groups > MAX_PUBLIC_GROUPS) {
      if (!(options.delta > 0)) {
        throw notAllowed(
          'GROUP BY',
          keys[0]!.position,
          `These keys make ${groups} public groups, more than the ${MAX_PUBLIC_GROUPS} released in full; that many need DP partition selection, and this query has δ = 0.`,
          'Group by fewer keys, or set delta > 0 in the request (e.g. "delta": 1e-7).',
        );
      }
      privatePartitions = true;
    }
  }

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
    aggregate: addAggregate,
    keyOf(node: Node): number | undefined {
      const expr = keyExpressionOf(node, { scope, source });
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

  checkQuantileWork(aggregates, keys, privatePartitions);

  return buildPlan({
    dataset: options.dataset,
    tables: scope.tables,
    joins: scope.joins,
    unit: { kind: 'column', table: 0, name: scope.tables[0]!.unit, type: 'id', position: scope.tables[0]!.position },
    filter,
    keys,
    aggregates,
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
