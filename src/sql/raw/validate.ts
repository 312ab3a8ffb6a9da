/**
 * The raw-query subset: what `POST /v1/raw-queries` accepts under an active grant, checked on the
 * libpg-query parse tree into a `RawPlan` (plan.ts), compiled by compile.ts. The second plan kind
 * of the front end: it shares the statement and clause checks (validate/statement.ts), the FROM
 * scope, the WHERE walker, the literal typing, the limits and the refusals with aggregate queries.
 *
 * - One SELECT over dataset tables, joined only as the policy declares (validate/scope.ts);
 *   columns listed one by one (no `*`), with optional aliases.
 * - WHERE: comparisons of a column with a literal, BETWEEN, IN (literals), IS [NOT] NULL,
 *   LIKE/ILIKE with a literal pattern, AND/OR/NOT; ORDER BY columns; LIMIT/OFFSET literals.
 * - No function, operator, cast, subquery, CASE, DISTINCT, GROUP BY or set operation at all:
 *   nothing that could raise an error or run long depending on a value.
 * - The side channel that matters here: a condition or a sort on a column the caller cannot see
 *   in clear would reveal it (`WHERE ssn LIKE '123%'` answers "which rows have this ssn" while
 *   the ssn is masked). So WHERE and ORDER BY may only use columns shown in clear: granted ones,
 *   and those with sensitivity `none` that are not `id` columns.
 * - Literals are typed against their column (validate/literal.ts) and sent as parameters; identifiers
 *   are quoted; `redact` columns are not even read (NULL is selected in their place).
 */
import type { ColumnRef, Node, ResTarget, SortBy } from 'libpg-query';
import { maskOf, tokenDomain } from '../../policy/masks.ts';
import type { Column, Dataset, Mask } from '../../policy/schema.ts';
import { describeNode, kindOf, namesOf, notAllowed, type ParsedSql, positionOf, type SourceText } from '../parse/index.ts';
import { type ColumnNode, freeze } from '../plan/index.ts';
import { buildScope, countLiteral, filterOf, isLiteral, refuseClauses, type Scope, selectStatementOf, type ClauseRules, COMMON_CLAUSES, type StatementWording } from '../validate/index.ts';
import type { RawColumn, RawOrderBy, RawPlan } from './plan.ts';

export const MAX_SELECT_ITEMS = 100;

export interface RawOptions {
  /** `table.column`s the grant shows in clear. */
  readonly granted: ReadonlySet<string>;
  /**
   * False when no tokenization key is configured: `tokenize` and `hash` masks then fall back to
   * `redact` (fail closed — the stricter mask).
   */
  readonly canTokenize: boolean;
}

const RAW_WORDING: StatementWording = {
  noun: 'raw query',
  multipleHint: 'Send one SELECT, without a second statement after a semicolon.',
  notSelect: (name) => `${name} statements are not allowed: raw access is read-only, one SELECT.`,
  // Replaced per query by one this grant accepts (exampleRawQuery).
  notSelectHint: 'Send one SELECT listing columns.',
};

/** Clauses outside the raw subset, refused before anything else is looked at. */
const RAW_CLAUSES: ClauseRules = {
  ...COMMON_CLAUSES,
  setOperation: (word) => ({ message: `${word} is not allowed: one SELECT per raw query.`, hint: 'Send each SELECT as its own query.' }),
  with: { message: 'WITH (common table expressions) is not allowed.', hint: 'Query a dataset table directly.' },
  into: { message: 'SELECT INTO is not allowed.', hint: 'Remove INTO …; dpq returns results, it never stores them.' },
  locking: { message: 'Locking clauses (FOR UPDATE/SHARE) are not allowed.', hint: 'Remove FOR UPDATE; raw queries run read-only.' },
  distinct: { message: 'SELECT DISTINCT is not allowed in raw queries: it would compare masked values.', hint: 'Select the rows; deduplicate on your side.' },
  groupBy: { message: 'GROUP BY is not allowed in raw queries.', hint: 'Use POST /v1/queries for aggregates: they are answered with differential privacy.' },
  having: { message: 'HAVING is not allowed in raw queries.', hint: 'Filter rows with WHERE.' },
  window: { message: 'WINDOW clauses are not allowed.', hint: 'Select plain columns.' },
};

/** True when a column is shown in clear under this grant. */
export function isClear(ref: string, column: Column, granted: ReadonlySet<string>): boolean {
  return granted.has(ref) || maskOf(column) === undefined;
}

/** What the clauses of one raw query share: its scope, the grant, and the columns WHERE and ORDER BY use. */
interface RawContext {
  readonly source: SourceText;
  readonly scope: Scope;
  readonly options: RawOptions;
  readonly filterColumns: Set<string>;
  readonly orderColumns: Set<string>;
}

interface SelectItem {
  readonly name: string;
  readonly column: ColumnNode;
}

const refOf = (ctx: RawContext, c: ColumnNode): string => `${ctx.scope.tables[c.table]!.name}.${c.name}`;
const clear = (ctx: RawContext, c: ColumnNode): boolean => isClear(refOf(ctx, c), ctx.scope.policyOf(c), ctx.options.granted);

/** A column reference, never `*`. */
function resolve(ctx: RawContext, ref: ColumnRef, where: string): ColumnNode {
  const parts = namesOf(ref.fields);
  if (parts.includes('*')) {
    throw notAllowed('SELECT *', ctx.source.fromByte(ref.location, 0), `* is not allowed (${where}): list the columns you need.`, `Name each column, e.g. SELECT ${firstColumns(ctx.scope)} FROM ${ctx.scope.tables[0]!.name}.`);
  }
  return ctx.scope.resolve(ref, where);
}

/** A column WHERE or ORDER BY uses: only one shown in clear (recorded in `used`). */
function visible(ctx: RawContext, c: ColumnNode, clause: string, used: Set<string>): ColumnNode {
  if (!clear(ctx, c)) {
    const shown = visibleColumns(ctx.scope, ctx.options.granted);
    throw notAllowed(
      `column ${c.name}`,
      c.position,
      `${refOf(ctx, c)} is masked under this grant; using it ${clause} would reveal what the mask hides.`,
      `${clause === 'in ORDER BY' ? 'Sort' : 'Filter'} on columns you see in clear (${shown.join(', ') || 'none'}), or request access to ${refOf(ctx, c)} in clear.`,
    );
  }
  used.add(refOf(ctx, c));
  return c;
}

/** The select list: plain columns, optionally renamed, with distinct names. */
function selectItemsOf(targets: readonly Node[], ctx: RawContext): SelectItem[] {
  const { source, scope } = ctx;
  if (targets.length === 0) throw notAllowed('empty select list', 0, 'The select list is empty.', `List columns: SELECT ${firstColumns(scope)} FROM ${scope.tables[0]!.name}.`);
  if (targets.length > MAX_SELECT_ITEMS) throw notAllowed('select list', 0, `The select list has ${targets.length} items.`, `Select at most ${MAX_SELECT_ITEMS} columns.`);
  const items = targets.map((t): SelectItem => {
    const position = positionOf(source, t);
    if (!('ResTarget' in t)) throw notAllowed(kindOf(t), position, 'Unexpected select-list item.', 'List plain columns.');
    const r: ResTarget = t.ResTarget;
    if (r.val === undefined || (r.indirection?.length ?? 0) > 0) throw notAllowed('select item', position, 'Unexpected select-list item.', 'List plain columns.');
    if (!('ColumnRef' in r.val)) throw refusal(r.val, 'in the select list', source);
    const column = resolve(ctx, r.val.ColumnRef, 'in the select list');
    return { name: r.name ?? column.name, column };
  });
  const names = new Set<string>();
  for (const [i, item] of items.entries()) {
    if (names.has(item.name)) {
      throw notAllowed(`column ${item.name}`, positionOf(source, targets[i]), `Two result columns are named "${item.name}".`, `Give one an alias: ${refOf(ctx, item.column)} AS ${scope.tables[item.column.table]!.name}_${item.column.name}.`);
    }
    names.add(item.name);
  }
  return items;
}

/** One ORDER BY item: a select-list position, an output name, or an input column — in clear. */
function sortKeyOf(sort: Node, items: readonly SelectItem[], ctx: RawContext): RawOrderBy {
  const { source } = ctx;
  const position = positionOf(source, sort);
  if (!('SortBy' in sort)) throw notAllowed(kindOf(sort), position, 'Unexpected ORDER BY item.', 'Order by columns.');
  const b: SortBy = sort.SortBy;
  if ((b.useOp?.length ?? 0) > 0) throw notAllowed('ORDER BY … USING', position, 'ORDER BY … USING is not allowed.', 'Write ASC or DESC.');
  const node = b.node;
  let column: ColumnNode | undefined;
  if (node !== undefined && isLiteral(node) && node.A_Const.ival !== undefined) {
    const n = node.A_Const.ival.ival ?? 0;
    column = items[n - 1]?.column;
    if (column === undefined) throw notAllowed('ORDER BY', positionOf(source, node, position), `ORDER BY ${n} is not a select-list position.`, `Use a position between 1 and ${items.length}, or a column.`);
  } else if (node !== undefined && 'ColumnRef' in node) {
    const parts = namesOf(node.ColumnRef.fields);
    // As in PostgreSQL, a bare name in ORDER BY is an output column first, then an input column.
    const aliased = parts.length === 1 ? items.filter((i) => i.name === parts[0]) : [];
    column = aliased.length === 1 ? aliased[0]!.column : resolve(ctx, node.ColumnRef, 'in ORDER BY');
  } else {
    throw refusal(node ?? sort, 'in ORDER BY', source);
  }
  const direction = b.sortby_dir === 'SORTBY_DESC' ? 'desc' : b.sortby_dir === 'SORTBY_ASC' ? 'asc' : 'default';
  const nulls = b.sortby_nulls === 'SORTBY_NULLS_FIRST' ? 'first' : b.sortby_nulls === 'SORTBY_NULLS_LAST' ? 'last' : 'default';
  return { column: visible(ctx, column, 'in ORDER BY', ctx.orderColumns), direction, nulls };
}

/** Validate a parsed raw query against the dataset and the grant; throws SQL_NOT_ALLOWED. */
export function validateRaw(parsed: ParsedSql, dataset: Dataset, options: RawOptions): RawPlan {
  const { source } = parsed;
  const s = selectStatementOf(parsed, { ...RAW_WORDING, notSelectHint: `Send one SELECT listing columns, e.g. ${exampleRawQuery(dataset, options.granted)}` });
  refuseClauses(s, parsed, RAW_CLAUSES);
  const scope = buildScope(s.fromClause ?? [], dataset, source);
  const ctx: RawContext = { source, scope, options, filterColumns: new Set(), orderColumns: new Set() };
  const items = selectItemsOf(s.targetList ?? [], ctx);
  // WHERE and ORDER BY: columns in clear only; id columns compare with untyped literals.
  const filter =
    s.whereClause === undefined
      ? undefined
      : filterOf(s.whereClause, {
          scope,
          source,
          refusal: (node, where) => refusal(node, where, source),
          columnOf: (node) => {
            const column = visible(ctx, resolve(ctx, node.ColumnRef, 'in WHERE'), 'in WHERE', ctx.filterColumns);
            return { column, type: column.type === 'id' ? undefined : column.type };
          },
        });
  const orderBy = (s.sortClause ?? []).map((sort) => sortKeyOf(sort, items, ctx));
  const columns = items.map(({ name, column }): RawColumn => ({
    name,
    ref: refOf(ctx, column),
    column,
    domain: tokenDomain(dataset, refOf(ctx, column)),
    policy: scope.policyOf(column),
    mask: clear(ctx, column) ? undefined : keyedMask(maskOf(scope.policyOf(column)), options.canTokenize),
  }));
  return freeze<RawPlan>({
    kind: 'raw',
    tables: scope.tables,
    joins: scope.joins,
    columns,
    filter,
    orderBy,
    filterColumns: [...ctx.filterColumns],
    orderColumns: [...ctx.orderColumns],
    limit: s.limitCount === undefined ? undefined : countLiteral(s.limitCount, source, 'LIMIT'),
    offset: s.limitOffset === undefined ? undefined : countLiteral(s.limitOffset, source, 'OFFSET'),
  });
}

function keyedMask(mask: Mask | undefined, canTokenize: boolean): Mask | undefined {
  return !canTokenize && (mask === 'tokenize' || mask === 'hash') ? 'redact' : mask;
}

function refusal(node: Node, where: string, source: SourceText): Error {
  const position = positionOf(source, node);
  if ('FuncCall' in node) {
    const name = namesOf(node.FuncCall.funcname).join('.');
    return notAllowed(`function ${name}`, position, `Functions are not allowed in raw queries (${name}() ${where}).`, 'Select plain columns; filter with comparisons, BETWEEN, IN, LIKE and IS NULL on literals.');
  }
  const d = describeNode(node, where);
  return notAllowed(d.construct, position, d.message, kindOf(node) === 'ColumnRef' || kindOf(node) === 'A_Const' ? 'Select plain columns; compare columns with literals in WHERE.' : d.hint);
}

/**
 * A raw query that this grant accepts as it is: columns of the first table, filtered on one it
 * shows in clear (a hint must not suggest a query that is then refused).
 */
export function exampleRawQuery(dataset: Dataset, granted: ReadonlySet<string>): string {
  const tables = Object.entries(dataset.tables);
  for (const [t, table] of tables) {
    const columns = Object.entries(table.columns);
    const clear = columns.find(([c, col]) => isClear(`${t}.${c}`, col, granted));
    if (clear === undefined) continue;
    const others = columns.filter(([c]) => c !== clear[0]).slice(0, 2).map(([c]) => c);
    return `SELECT ${[clear[0], ...others].join(', ')} FROM ${t} WHERE ${clear[0]} IS NOT NULL LIMIT 10`;
  }
  const [t, table] = tables[0] ?? ['t', { columns: {} }];
  return `SELECT ${Object.keys(table.columns).slice(0, 3).join(', ')} FROM ${t} LIMIT 10`;
}

function firstColumns(scope: Scope): string {
  return Object.keys(scope.tablePolicy(0).columns).slice(0, 3).join(', ');
}

function visibleColumns(scope: Scope, granted: ReadonlySet<string>): string[] {
  return scope.tables.flatMap((t) =>
    Object.entries(scope.tablePolicy(t.index).columns)
      .filter(([name, c]) => isClear(`${t.name}.${name}`, c, granted))
      .map(([name]) => `${t.name}.${name}`),
  );
}
