/**
 * The raw-query subset: what `POST /v1/raw-queries` accepts under an active grant, checked on the
 * libpg-query parse tree and compiled to parametrized SQL.
 *
 * - One SELECT over dataset tables, joined only as the policy declares (sql/scope.ts, shared with
 *   aggregate queries); columns listed one by one (no `*`), with optional aliases.
 * - WHERE: comparisons of a column with a literal, BETWEEN, IN (literals), IS [NOT] NULL,
 *   LIKE/ILIKE with a literal pattern, AND/OR/NOT; ORDER BY columns; LIMIT/OFFSET literals.
 * - No function, operator, cast, subquery, CASE, DISTINCT, GROUP BY or set operation at all:
 *   nothing that could raise an error or run long depending on a value.
 * - The side channel that matters here: a condition or a sort on a column the caller cannot see
 *   in clear would reveal it (`WHERE ssn LIKE '123%'` answers "which rows have this ssn" while
 *   the ssn is masked). So WHERE and ORDER BY may only use columns shown in clear: granted ones,
 *   and those with sensitivity `none` that are not `id` columns.
 * - Literals are typed against their column (sql/literal.ts) and sent as parameters; identifiers
 *   are quoted; `redact` columns are not even read (NULL is selected in their place).
 */
import type { ColumnRef, Node, ResTarget, SelectStmt, SortBy } from 'libpg-query';
import type { Column, Dataset, Mask } from '../policy/schema.ts';
import { buildScope, checkLikePattern, type ColumnNode, countLiteral, describe, ident, isLiteral, kindOf, literalFor, namesOf, notAllowed, Params, type ParsedSql, positionOf, type Scope, type SourceText } from '../sql/index.ts';
import { maskOf, tokenDomain } from './masking.ts';

export const MAX_SELECT_ITEMS = 100;
export const MAX_IN_LIST = 1000;

/** One column of the result. `mask` is undefined when it is shown in clear. */
export interface RawColumn {
  readonly name: string;
  /** `table.column` */
  readonly ref: string;
  /** The token domain (masking.ts `tokenDomain`). */
  readonly domain: string;
  readonly policy: Column;
  readonly mask: Mask | undefined;
}

export interface RawPlan {
  readonly columns: readonly RawColumn[];
  /** `table.column`s used in WHERE and ORDER BY (all in clear). */
  readonly filterColumns: readonly string[];
  readonly orderColumns: readonly string[];
  /** The LIMIT written in the query, if any. */
  readonly limit: bigint | undefined;
  /** SQL and parameters with `rowLimit` as the LIMIT. */
  compile(rowLimit: number): { readonly sql: string; readonly params: readonly string[] };
}

export interface RawOptions {
  /** `table.column`s the grant shows in clear. */
  readonly granted: ReadonlySet<string>;
  /**
   * False when no tokenization key is configured: `tokenize` and `hash` masks then fall back to
   * `redact` (fail closed — the stricter mask).
   */
  readonly canTokenize: boolean;
}

const COMPARISONS = new Set(['=', '<>', '<', '<=', '>', '>=']);
const LIKE_OPS: Readonly<Record<string, string>> = { '~~': 'LIKE', '!~~': 'NOT LIKE', '~~*': 'ILIKE', '!~~*': 'NOT ILIKE' };

const STATEMENT_NAMES: Readonly<Record<string, string>> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  CopyStmt: 'COPY',
  ExplainStmt: 'EXPLAIN',
  VariableSetStmt: 'SET',
  TransactionStmt: 'transaction control',
  DoStmt: 'DO',
  CallStmt: 'CALL',
};

/** True when a column is shown in clear under this grant. */
export function isClear(ref: string, column: Column, granted: ReadonlySet<string>): boolean {
  return granted.has(ref) || maskOf(column) === undefined;
}

export function validateRaw(parsed: ParsedSql, dataset: Dataset, options: RawOptions): RawPlan {
  const { source } = parsed;
  const [first, second] = parsed.statements;
  if (second !== undefined) {
    throw notAllowed('multiple statements', source.fromByte(second.stmt_location, 0), 'Only one statement per raw query is allowed.', 'Send one SELECT, without a second statement after a semicolon.');
  }
  const stmt = first!.stmt!;
  if (!('SelectStmt' in stmt)) {
    const kind = kindOf(stmt);
    const name = STATEMENT_NAMES[kind] ?? kind.replace(/Stmt$/, '');
    throw notAllowed(name, source.fromByte(first!.stmt_location, 0), `${name} statements are not allowed: raw access is read-only, one SELECT.`, 'Send one SELECT listing columns, e.g. SELECT patient_id, zip FROM patients WHERE zip LIKE \'941%\'.');
  }
  for (const t of parsed.tokens) {
    if (/^u&["']/i.test(t.text)) {
      throw notAllowed('unicode escape', source.fromByte(t.start), 'Unicode escapes (U&"…", U&\'…\') are not allowed.', 'Write identifiers and strings as plain text.');
    }
  }
  const s = stmt.SelectStmt;
  checkShape(s, parsed);
  const scope = buildScope(s.fromClause ?? [], dataset, source);
  const refOf = (c: ColumnNode): string => `${scope.tables[c.table]!.name}.${c.name}`;
  const sqlOf = (c: ColumnNode): string => `t${c.table}.${ident(c.name)}`;
  const clear = (c: ColumnNode): boolean => isClear(refOf(c), scope.policyOf(c), options.granted);

  const resolve = (ref: ColumnRef, where: string): ColumnNode => {
    const parts = namesOf(ref.fields);
    if (parts.includes('*')) {
      throw notAllowed('SELECT *', source.fromByte(ref.location, 0), `* is not allowed (${where}): list the columns you need.`, `Name each column, e.g. SELECT ${firstColumns(scope)} FROM ${scope.tables[0]!.name}.`);
    }
    return scope.resolve(ref, where);
  };

  // Select list: plain columns, optionally renamed.
  const targets = s.targetList ?? [];
  if (targets.length === 0) throw notAllowed('empty select list', 0, 'The select list is empty.', `List columns: SELECT ${firstColumns(scope)} FROM ${scope.tables[0]!.name}.`);
  if (targets.length > MAX_SELECT_ITEMS) throw notAllowed('select list', 0, `The select list has ${targets.length} items.`, `Select at most ${MAX_SELECT_ITEMS} columns.`);
  const items: { name: string; column: ColumnNode }[] = targets.map((t) => {
    const position = positionOf(source, t);
    if (!('ResTarget' in t)) throw notAllowed(kindOf(t), position, 'Unexpected select-list item.', 'List plain columns.');
    const r: ResTarget = t.ResTarget;
    if (r.val === undefined || (r.indirection?.length ?? 0) > 0) throw notAllowed('select item', position, 'Unexpected select-list item.', 'List plain columns.');
    if (!('ColumnRef' in r.val)) throw refusal(r.val, 'in the select list', source);
    const column = resolve(r.val.ColumnRef, 'in the select list');
    return { name: r.name ?? column.name, column };
  });
  const names = new Set<string>();
  for (const [i, item] of items.entries()) {
    if (names.has(item.name)) {
      throw notAllowed(`column ${item.name}`, positionOf(source, targets[i]), `Two result columns are named "${item.name}".`, `Give one an alias: ${refOf(item.column)} AS ${scope.tables[item.column.table]!.name}_${item.column.name}.`);
    }
    names.add(item.name);
  }

  // WHERE and ORDER BY: columns in clear only.
  const params = new Params();
  const filterColumns = new Set<string>();
  const orderColumns = new Set<string>();
  const visible = (c: ColumnNode, clause: string, used: Set<string>): string => {
    if (!clear(c)) {
      const shown = visibleColumns(scope, options.granted);
      throw notAllowed(
        `column ${c.name}`,
        c.position,
        `${refOf(c)} is masked under this grant; using it ${clause} would reveal what the mask hides.`,
        `${clause === 'in ORDER BY' ? 'Sort' : 'Filter'} on columns you see in clear (${shown.join(', ') || 'none'}), or request access to ${refOf(c)} in clear.`,
      );
    }
    used.add(refOf(c));
    return sqlOf(c);
  };

  const filterColumn = (node: Node): { column: ColumnNode; sql: string } => {
    if (!('ColumnRef' in node)) throw refusal(node, 'in WHERE', source);
    const column = resolve(node.ColumnRef, 'in WHERE');
    return { column, sql: visible(column, 'in WHERE', filterColumns) };
  };
  const literal = (node: Node, column: ColumnNode, where: string): string => {
    if (column.type === 'id') {
      // An id column's SQL type is not in the policy: the literal goes untyped, and PostgreSQL
      // reads it as the column's type. Only numbers and strings are accepted.
      const c = isLiteral(node) ? node.A_Const : undefined;
      const text = c?.ival !== undefined ? String(c.ival.ival ?? 0) : c?.fval !== undefined ? c.fval.fval : c?.sval !== undefined ? c.sval.sval ?? '' : undefined;
      if (text === undefined || text.length > 200) {
        throw notAllowed('literal', positionOf(source, node), `Compare ${column.name} with a number or a quoted string.`, `Write ${column.name} = 42.`);
      }
      return params.add(text);
    }
    const lit = literalFor(node, column.type, column.name, source, where);
    return params.typed(lit.value, lit.type);
  };

  const condition = (node: Node): string => {
    if ('BoolExpr' in node) {
      const b = node.BoolExpr;
      const args = (b.args ?? []).map(condition);
      if (b.boolop === 'NOT_EXPR') return `(NOT ${args[0]!})`;
      return `(${args.join(b.boolop === 'OR_EXPR' ? ' OR ' : ' AND ')})`;
    }
    if ('NullTest' in node) {
      const t = node.NullTest;
      if (t.arg === undefined || t.argisrow === true) throw refusal(node, 'in WHERE', source);
      const { sql } = filterColumn(t.arg);
      return `(${sql} IS ${t.nulltesttype === 'IS_NOT_NULL' ? 'NOT ' : ''}NULL)`;
    }
    if ('ColumnRef' in node) {
      throw notAllowed('boolean column test', positionOf(source, node), 'A bare column is not a condition here.', 'Compare it with a literal: flag = true.');
    }
    if (!('A_Expr' in node)) throw refusal(node, 'in WHERE', source);
    const e = node.A_Expr;
    const op = namesOf(e.name).join(' ');
    const position = positionOf(source, node);
    if (e.lexpr === undefined || e.rexpr === undefined) throw refusal(node, 'in WHERE', source);
    switch (e.kind) {
      case 'AEXPR_OP': {
        if (!COMPARISONS.has(op)) throw refusal(node, 'in WHERE', source);
        const leftIsColumn = 'ColumnRef' in e.lexpr;
        if (!leftIsColumn && !('ColumnRef' in e.rexpr)) {
          throw notAllowed('constant comparison', position, 'A comparison must have a column on one side.', 'Compare a column with a literal: cost > 100.');
        }
        const [colNode, litNode] = leftIsColumn ? [e.lexpr, e.rexpr] : [e.rexpr, e.lexpr];
        const { column, sql } = filterColumn(colNode);
        const value = literal(litNode, column, 'in WHERE');
        return leftIsColumn ? `(${sql} ${op} ${value})` : `(${value} ${op} ${sql})`;
      }
      case 'AEXPR_IN': {
        const { column, sql } = filterColumn(e.lexpr);
        const list = 'List' in e.rexpr ? (e.rexpr.List.items ?? []) : [e.rexpr];
        if (list.length > MAX_IN_LIST) throw notAllowed('IN list', position, `The IN list has ${list.length} values.`, `Use at most ${MAX_IN_LIST} values.`);
        const values = list.map((i) => literal(i, column, 'in an IN list'));
        return `(${sql} ${op === '<>' ? 'NOT IN' : 'IN'} (${values.join(', ')}))`;
      }
      case 'AEXPR_LIKE':
      case 'AEXPR_ILIKE': {
        const sqlOp = LIKE_OPS[op];
        if (sqlOp === undefined) throw refusal(node, 'in WHERE', source);
        const { column, sql } = filterColumn(e.lexpr);
        if (column.type !== 'text') {
          throw notAllowed('LIKE', position, `LIKE applies to text columns; ${column.name} is ${column.type}.`, 'Use comparisons or BETWEEN for this column.');
        }
        if ('FuncCall' in e.rexpr) {
          throw notAllowed('LIKE … ESCAPE', position, 'LIKE … ESCAPE is not allowed.', "Write the pattern with the default escape character \\: diagnosis LIKE 'J\\_%'.");
        }
        const lit = literalFor(e.rexpr, 'text', column.name, source, 'as a LIKE pattern');
        checkLikePattern(lit);
        return `(${sql} ${sqlOp} ${params.add(lit.value as string, 'text')})`;
      }
      case 'AEXPR_BETWEEN':
      case 'AEXPR_NOT_BETWEEN': {
        if (!('List' in e.rexpr)) throw refusal(node, 'in WHERE', source);
        const { column, sql } = filterColumn(e.lexpr);
        const [lo, hi] = e.rexpr.List.items ?? [];
        if (lo === undefined || hi === undefined) throw refusal(node, 'in WHERE', source);
        const low = literal(lo, column, 'in BETWEEN');
        const high = literal(hi, column, 'in BETWEEN');
        return `(${sql} ${e.kind === 'AEXPR_NOT_BETWEEN' ? 'NOT BETWEEN' : 'BETWEEN'} ${low} AND ${high})`;
      }
      default:
        throw refusal(node, 'in WHERE', source);
    }
  };
  const where = s.whereClause === undefined ? undefined : condition(s.whereClause);

  const sortKey = (sort: Node): string => {
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
      column = aliased.length === 1 ? aliased[0]!.column : resolve(node.ColumnRef, 'in ORDER BY');
    } else {
      throw refusal(node ?? sort, 'in ORDER BY', source);
    }
    const dir = b.sortby_dir === 'SORTBY_DESC' ? ' DESC' : b.sortby_dir === 'SORTBY_ASC' ? ' ASC' : '';
    const nulls = b.sortby_nulls === 'SORTBY_NULLS_FIRST' ? ' NULLS FIRST' : b.sortby_nulls === 'SORTBY_NULLS_LAST' ? ' NULLS LAST' : '';
    return `${visible(column, 'in ORDER BY', orderColumns)}${dir}${nulls}`;
  };
  const order = (s.sortClause ?? []).map(sortKey);
  const limit = s.limitCount === undefined ? undefined : countLiteral(s.limitCount, source, 'LIMIT');
  const offset = s.limitOffset === undefined ? undefined : countLiteral(s.limitOffset, source, 'OFFSET');

  const columns: RawColumn[] = items.map(({ name, column }) => ({
    name,
    ref: refOf(column),
    domain: tokenDomain(dataset, refOf(column)),
    policy: scope.policyOf(column),
    mask: clear(column) ? undefined : keyedMask(maskOf(scope.policyOf(column)), options.canTokenize),
  }));
  const selectSql = items
    .map(({ column }, i) => `${columns[i]!.mask === 'redact' ? 'NULL' : sqlOf(column)} AS c${i}`)
    .join(', ');
  const fromSql = scope.tables
    .map((t, i) => {
      const table = `${ident(t.schema)}.${ident(t.name)} AS t${i}`;
      if (i === 0) return table;
      const j = scope.joins[i - 1]!;
      return `JOIN ${table} ON ${sqlOf(j.left)} = ${sqlOf(j.right)}`;
    })
    .join(' ');
  const base = `SELECT ${selectSql} FROM ${fromSql}${where === undefined ? '' : ` WHERE ${where}`}${order.length === 0 ? '' : ` ORDER BY ${order.join(', ')}`}`;
  const fixed = [...params.values];

  return Object.freeze({
    columns: Object.freeze(columns),
    filterColumns: Object.freeze([...filterColumns]),
    orderColumns: Object.freeze([...orderColumns]),
    limit,
    compile(rowLimit: number) {
      const all = [...fixed, String(rowLimit)];
      let sql = `${base} LIMIT $${all.length}::int8`;
      if (offset !== undefined && offset > 0n) {
        all.push(offset.toString());
        sql += ` OFFSET $${all.length}::int8`;
      }
      return { sql, params: all };
    },
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
  const d = describe(node, where);
  return notAllowed(d.construct, position, d.message, kindOf(node) === 'ColumnRef' || kindOf(node) === 'A_Const' ? 'Select plain columns; compare columns with literals in WHERE.' : d.hint);
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

/** Clauses outside the raw subset, refused before anything else is looked at. */
function checkShape(s: SelectStmt, parsed: ParsedSql): void {
  const { source } = parsed;
  const at = (word: string, after = 0): number => {
    const t = parsed.tokens.find((x) => x.start >= after && x.text.toLowerCase() === word);
    return t === undefined ? 0 : source.fromByte(t.start);
  };
  const refuse = (construct: string, position: number, message: string, hint: string): never => {
    throw notAllowed(construct, position, message, hint);
  };
  if (s.op !== undefined && s.op !== 'SETOP_NONE') {
    const word = s.op.replace('SETOP_', '');
    refuse(word, at(word.toLowerCase()), `${word} is not allowed: one SELECT per raw query.`, 'Send each SELECT as its own query.');
  }
  if (s.withClause !== undefined) refuse('WITH', source.fromByte(s.withClause.location, at('with')), 'WITH (common table expressions) is not allowed.', 'Query a dataset table directly.');
  if (s.valuesLists !== undefined && s.valuesLists.length > 0) refuse('VALUES', at('values'), 'VALUES lists are not allowed.', 'Query a dataset table.');
  if (s.intoClause !== undefined) refuse('SELECT INTO', at('into'), 'SELECT INTO is not allowed.', 'Remove INTO …; dpq returns results, it never stores them.');
  if (s.lockingClause !== undefined && s.lockingClause.length > 0) refuse('locking clause', at('for'), 'Locking clauses (FOR UPDATE/SHARE) are not allowed.', 'Remove FOR UPDATE; raw queries run read-only.');
  if (s.distinctClause !== undefined && s.distinctClause.length > 0) {
    refuse('DISTINCT', at('distinct'), 'SELECT DISTINCT is not allowed in raw queries: it would compare masked values.', 'Select the rows; deduplicate on your side.');
  }
  if (s.groupClause !== undefined && s.groupClause.length > 0) {
    refuse('GROUP BY', at('group'), 'GROUP BY is not allowed in raw queries.', 'Use POST /v1/queries for aggregates: they are answered with differential privacy.');
  }
  if (s.havingClause !== undefined) refuse('HAVING', at('having'), 'HAVING is not allowed in raw queries.', 'Filter rows with WHERE.');
  if (s.windowClause !== undefined && s.windowClause.length > 0) refuse('window function', at('window'), 'WINDOW clauses are not allowed.', 'Select plain columns.');
  if (s.limitOption === 'LIMIT_OPTION_WITH_TIES') refuse('WITH TIES', at('ties'), 'FETCH … WITH TIES is not allowed.', 'Write LIMIT n.');
}
