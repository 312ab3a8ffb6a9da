/**
 * WHERE: comparisons of one column with literals, combined with AND/OR/NOT — nothing that could
 * raise an error or run long on one person's data. Every literal is typed against its column
 * (literal.ts) and becomes a parameter. The one walker for every query kind: aggregate queries use
 * the default column rule, raw queries (sql/raw/) their own (columns in clear only, id columns
 * compared with untyped literals) and their own refusal wording.
 */
import type { ColumnRef, Node } from 'libpg-query';
import { describeNode, kindOf, namesOf, notAllowed, positionOf, type SourceText } from '../parse/index.ts';
import { isLiteral, literalFor } from './literal.ts';
import { type ColumnNode, type ComparisonOperator, type FilterNode, isComparison, type LiteralNode, type ValueType } from '../plan/index.ts';
import type { Scope } from './scope.ts';

/** Most literals one IN list may hold. */
export const MAX_IN_LIST = 1000;
/** Most `%` wildcards one LIKE pattern may hold (each can multiply the matching work). */
export const MAX_LIKE_WILDCARDS = 4;

const FLIPPED: Readonly<Record<ComparisonOperator, ComparisonOperator>> = { '=': '=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
const LIKE_OPS: Readonly<Record<string, { negated: boolean; caseInsensitive: boolean }>> = {
  '~~': { negated: false, caseInsensitive: false },
  '!~~': { negated: true, caseInsensitive: false },
  '~~*': { negated: false, caseInsensitive: true },
  '!~~*': { negated: true, caseInsensitive: true },
};

/** A column a condition may use, with the type its literals must have (undefined: untyped). */
export interface FilterColumn {
  readonly column: ColumnNode;
  readonly type: ValueType | undefined;
}

export interface FilterContext {
  readonly scope: Scope;
  readonly source: SourceText;
  /** The column a condition's operand names (default: the aggregate rule, `aggregateFilterColumn`). */
  readonly columnOf?: (node: { ColumnRef: ColumnRef }) => FilterColumn;
  /** The refusal of a node outside the subset (default: `describe`'s words). */
  readonly refusal?: (node: Node, where: string) => Error;
}

function refuseNode(node: Node, ctx: FilterContext, where = 'in WHERE'): never {
  if (ctx.refusal !== undefined) throw ctx.refusal(node, where);
  const d = describeNode(node, where);
  throw notAllowed(d.construct, positionOf(ctx.source, node), d.message, d.hint);
}

function filterColumn(node: Node, ctx: FilterContext): FilterColumn {
  if (!('ColumnRef' in node)) refuseNode(node, ctx);
  return (ctx.columnOf ?? ((n) => aggregateFilterColumn(n, ctx)))(node);
}

/** Most characters of an untyped (id column) literal. */
const MAX_UNTYPED_LITERAL = 200;

/** A literal compared with `column`: typed against it, or (type undefined) a number or string sent untyped. */
function literalOf(node: Node, { column, type }: FilterColumn, ctx: FilterContext, where: string): LiteralNode {
  if (type !== undefined) return literalFor(node, type, column.name, ctx.source, where);
  // An id column's SQL type is not in the policy: the literal goes untyped, and PostgreSQL reads it
  // as the column's type. Only numbers and strings are accepted.
  const c = isLiteral(node) ? node.A_Const : undefined;
  const text = c?.ival !== undefined ? String(c.ival.ival ?? 0) : c?.fval !== undefined ? c.fval.fval : c?.sval !== undefined ? c.sval.sval ?? '' : undefined;
  if (text === undefined || text.length > MAX_UNTYPED_LITERAL) {
    throw notAllowed('literal', positionOf(ctx.source, node), `Compare ${column.name} with a number or a quoted string.`, `Write ${column.name} = 42.`);
  }
  return { kind: 'literal', type: 'text', value: text, position: positionOf(ctx.source, node), untyped: true };
}

/** A column usable in an aggregate query's WHERE: aggregatable and not the unit. */
function aggregateFilterColumn(node: { ColumnRef: ColumnRef }, ctx: FilterContext): FilterColumn {
  const column = ctx.scope.resolve(node.ColumnRef, 'in WHERE');
  const policy = ctx.scope.policyOf(column);
  if (!policy.aggregate) {
    throw notAllowed(`column ${column.name}`, column.position, `The column ${column.name} is excluded from aggregate queries (aggregate: false).`, 'Remove it from the query; it can only be seen under an approved raw-access grant.');
  }
  if (column.type === 'id') {
    throw notAllowed(`column ${column.name}`, column.position, `The unit column ${column.name} cannot be filtered on: it identifies a person.`, `Filter on other columns; count people with COUNT(DISTINCT ${column.name}).`);
  }
  return { column, type: column.type };
}

export function filterOf(node: Node, ctx: FilterContext): FilterNode {
  if ('BoolExpr' in node) {
    const b = node.BoolExpr;
    const args = (b.args ?? []).map((a) => filterOf(a, ctx));
    if (b.boolop === 'NOT_EXPR') return { kind: 'not', arg: args[0]! };
    return { kind: b.boolop === 'OR_EXPR' ? 'or' : 'and', args };
  }
  if ('NullTest' in node) {
    const t = node.NullTest;
    if (t.arg === undefined || t.argisrow === true) refuseNode(node, ctx);
    const { column } = filterColumn(t.arg, ctx);
    return { kind: 'isNull', column, negated: t.nulltesttype === 'IS_NOT_NULL' };
  }
  if (!('A_Expr' in node)) {
    if (kindOf(node) === 'ColumnRef') {
      const position = positionOf(ctx.source, node);
      throw notAllowed('boolean column test', position, 'A bare column is not a condition here.', 'Compare it with a literal: flag = true.');
    }
    refuseNode(node, ctx);
  }
  const e = node.A_Expr;
  const op = namesOf(e.name).join(' ');
  const position = positionOf(ctx.source, node);
  switch (e.kind) {
    case 'AEXPR_OP': {
      if (!isComparison(op) || e.lexpr === undefined || e.rexpr === undefined) refuseNode(node, ctx);
      const leftIsColumn = 'ColumnRef' in e.lexpr;
      const rightIsColumn = 'ColumnRef' in e.rexpr;
      if (!leftIsColumn && !rightIsColumn) {
        const other = kindOf(e.lexpr) === 'A_Const' ? e.rexpr : e.lexpr;
        if (kindOf(other) !== 'A_Const') refuseNode(other, ctx);
        throw notAllowed('constant comparison', position, 'A comparison must have a column on one side.', 'Compare a column with a literal: cost > 100.');
      }
      const [colNode, litNode, flipped] = leftIsColumn ? [e.lexpr, e.rexpr, false] : [e.rexpr, e.lexpr, true];
      const target = filterColumn(colNode, ctx);
      const value = literalOf(litNode, target, ctx, 'in WHERE');
      return { kind: 'compare', column: target.column, op: flipped ? FLIPPED[op] : op, value };
    }
    case 'AEXPR_IN': {
      if (e.lexpr === undefined || e.rexpr === undefined) refuseNode(node, ctx);
      const target = filterColumn(e.lexpr, ctx);
      const items = 'List' in e.rexpr ? (e.rexpr.List.items ?? []) : [e.rexpr];
      if (items.length > MAX_IN_LIST) {
        throw notAllowed('IN list', position, `The IN list has ${items.length} values.`, `Use at most ${MAX_IN_LIST} values.`);
      }
      const values = items.map((i) => literalOf(i, target, ctx, 'in an IN list'));
      return { kind: 'in', column: target.column, negated: op === '<>', values };
    }
    case 'AEXPR_LIKE':
    case 'AEXPR_ILIKE': {
      const like = LIKE_OPS[op];
      if (like === undefined || e.lexpr === undefined || e.rexpr === undefined) refuseNode(node, ctx);
      const { column, type } = filterColumn(e.lexpr, ctx);
      if (type !== 'text') {
        throw notAllowed('LIKE', position, `LIKE applies to text columns; ${column.name} is ${column.type}.`, 'Use comparisons or BETWEEN for this column.');
      }
      if ('FuncCall' in e.rexpr) {
        throw notAllowed('LIKE … ESCAPE', position, 'LIKE … ESCAPE is not allowed.', "Write the pattern with the default escape character \\: diagnosis LIKE 'J\\_%'.");
      }
      const pattern = literalFor(e.rexpr, 'text', column.name, ctx.source, 'as a LIKE pattern');
      checkLikePattern(pattern);
      return { kind: 'like', column, negated: like.negated, caseInsensitive: like.caseInsensitive, pattern };
    }
    case 'AEXPR_BETWEEN':
    case 'AEXPR_NOT_BETWEEN': {
      if (e.lexpr === undefined || e.rexpr === undefined || !('List' in e.rexpr)) refuseNode(node, ctx);
      const target = filterColumn(e.lexpr, ctx);
      const [lo, hi] = e.rexpr.List.items ?? [];
      if (lo === undefined || hi === undefined) refuseNode(node, ctx);
      const low = literalOf(lo, target, ctx, 'in BETWEEN');
      const high = literalOf(hi, target, ctx, 'in BETWEEN');
      return { kind: 'between', column: target.column, negated: e.kind === 'AEXPR_NOT_BETWEEN', low, high };
    }
    default:
      return refuseNode(node, ctx);
  }
}

/**
 * The checks every LIKE pattern passes, for aggregate and raw queries alike: PostgreSQL raises an
 * error for a pattern ending in a lone escape character, but only when a row matches up to it —
 * an error that would depend on the data — and many wildcards make matching slow.
 */
export function checkLikePattern(pattern: LiteralNode): void {
  if (/(^|[^\\])(\\\\)*\\$/.test(pattern.value as string)) {
    throw notAllowed('LIKE pattern', pattern.position, 'The pattern ends with the escape character \\.', "Escape it (\\\\) or remove it: diagnosis LIKE 'J%'.");
  }
  const wildcards = (pattern.value as string).split('%').length - 1;
  if (wildcards > MAX_LIKE_WILDCARDS) {
    throw notAllowed('LIKE pattern', pattern.position, `The pattern has ${wildcards} % wildcards.`, `Use at most ${MAX_LIKE_WILDCARDS}.`);
  }
}

/** Every filter node below (and including) `f`, depth-first. */
export function* filterNodes(f: FilterNode): Generator<FilterNode> {
  yield f;
  if (f.kind === 'and' || f.kind === 'or') for (const a of f.args) yield* filterNodes(a);
  if (f.kind === 'not') yield* filterNodes(f.arg);
}

