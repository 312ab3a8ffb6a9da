/**
 * HAVING, ORDER BY, LIMIT and OFFSET: kept in the plan and applied to the released (noisy) values,
 * which is post-processing and costs no privacy. They may refer to aggregates (which are then
 * measured and released even when not selected), to group keys and to select-list aliases, and
 * compare them with literals.
 */
import type { Node, SortBy } from 'libpg-query';
import { describeNode, namesOf, notAllowed, positionOf, type SourceText } from '../parse/index.ts';
import { isAggregateCall } from './aggregate.ts';
import { looksLikeKey } from './group-by.ts';
import { countLiteral, isLiteral, literalFor } from './literal.ts';
import { type ComparisonOperator, isComparison, type LiteralNode, type OperandNode, type OrderByNode, type OutputRef, type PostProcessNode, type PredicateNode, type SelectItemNode, type ValueType } from '../plan/index.ts';

export interface OutputContext {
  readonly source: SourceText;
  readonly select: readonly SelectItemNode[];
  /** The aggregate's index, adding it (or finding the identical one). */
  aggregate(node: Node): number;
  /** The index of the group key this expression is, or undefined. */
  keyOf(node: Node): number | undefined;
  keyType(key: number): ValueType;
  /** The table column a one-part name resolves to exists (input columns win over aliases in HAVING). */
  isInputColumn(name: string): boolean;
}

function refuseNode(node: Node, ctx: OutputContext, where: string): never {
  const d = describeNode(node, where);
  throw notAllowed(d.construct, positionOf(ctx.source, node), d.message, d.hint);
}

/** A select-list item named `name` (alias or default name), if exactly one. */
function byOutputName(name: string, ctx: OutputContext): SelectItemNode | undefined {
  const found = ctx.select.filter((s) => s.name === name);
  return found.length === 1 ? found[0] : undefined;
}

function referenceOf(node: Node, ctx: OutputContext, clause: string, preferOutputNames: boolean): OutputRef {
  const position = positionOf(ctx.source, node);
  if (isAggregateCall(node)) return { kind: 'aggregateRef', aggregate: ctx.aggregate(node) };
  if ('ColumnRef' in node) {
    const parts = namesOf(node.ColumnRef.fields);
    if (parts.length === 1) {
      const item = byOutputName(parts[0]!, ctx);
      if (item !== undefined && (preferOutputNames || !ctx.isInputColumn(parts[0]!))) return item.ref;
    }
  }
  if (looksLikeKey(node)) {
    const key = ctx.keyOf(node);
    if (key !== undefined) return { kind: 'keyRef', key };
    throw notAllowed(clause, position, `${clause} may refer to group keys, aggregates and select-list aliases only.`, 'Add the column to GROUP BY, or refer to an aggregate.');
  }
  return refuseNode(node, ctx, `in ${clause}`);
}

function operandOf(node: Node, ctx: OutputContext): OperandNode | Node {
  if (isLiteral(node)) return node;
  const ref = referenceOf(node, ctx, 'HAVING', false);
  return { ...ref, position: positionOf(ctx.source, node) };
}

const isOperand = (o: OperandNode | Node): o is OperandNode => 'kind' in o && typeof (o as { kind: unknown }).kind === 'string';

function typedAgainst(lit: Node, other: OperandNode, ctx: OutputContext): LiteralNode {
  const type: ValueType = other.kind === 'keyRef' ? ctx.keyType(other.key) : 'numeric';
  return literalFor(lit, type, other.kind === 'keyRef' ? 'the group key' : 'the aggregate', ctx.source, 'in HAVING');
}

export function predicateOf(node: Node, ctx: OutputContext): PredicateNode {
  if ('BoolExpr' in node) {
    const args = (node.BoolExpr.args ?? []).map((a) => predicateOf(a, ctx));
    if (node.BoolExpr.boolop === 'NOT_EXPR') return { kind: 'not', arg: args[0]! };
    return { kind: node.BoolExpr.boolop === 'OR_EXPR' ? 'or' : 'and', args };
  }
  if ('NullTest' in node && node.NullTest.arg !== undefined) {
    const operand = operandOf(node.NullTest.arg, ctx);
    if (!isOperand(operand)) return refuseNode(node.NullTest.arg, ctx, 'in HAVING');
    return { kind: 'isNull', negated: node.NullTest.nulltesttype === 'IS_NOT_NULL', operand };
  }
  if (!('A_Expr' in node)) return refuseNode(node, ctx, 'in HAVING');
  const e = node.A_Expr;
  const op = namesOf(e.name).join(' ');
  const position = positionOf(ctx.source, node);
  if (e.kind === 'AEXPR_OP' && isComparison(op) && e.lexpr !== undefined && e.rexpr !== undefined) {
    const l = operandOf(e.lexpr, ctx);
    const r = operandOf(e.rexpr, ctx);
    if (!isOperand(l) && !isOperand(r)) {
      throw notAllowed('constant comparison', position, 'A HAVING comparison needs an aggregate or a group key on one side.', 'Write HAVING COUNT(*) > 100.');
    }
    const left = isOperand(l) ? l : typedAgainst(l, r as OperandNode, ctx);
    const right = isOperand(r) ? r : typedAgainst(r, l as OperandNode, ctx);
    if (left.kind === 'keyRef' && right.kind !== 'literal' || right.kind === 'keyRef' && left.kind !== 'literal') {
      throw notAllowed('column comparison', position, 'A group key can only be compared with a literal in HAVING.', 'Compare the key with a literal, or filter it in WHERE.');
    }
    return { kind: 'compare', op: op as ComparisonOperator, left, right };
  }
  if ((e.kind === 'AEXPR_BETWEEN' || e.kind === 'AEXPR_NOT_BETWEEN') && e.lexpr !== undefined && e.rexpr !== undefined && 'List' in e.rexpr) {
    const operand = operandOf(e.lexpr, ctx);
    const [lo, hi] = e.rexpr.List.items ?? [];
    if (!isOperand(operand) || lo === undefined || hi === undefined) return refuseNode(node, ctx, 'in HAVING');
    return { kind: 'between', negated: e.kind === 'AEXPR_NOT_BETWEEN', operand, low: typedAgainst(lo, operand, ctx), high: typedAgainst(hi, operand, ctx) };
  }
  return refuseNode(node, ctx, 'in HAVING');
}

function orderByOf(node: Node, ctx: OutputContext): OrderByNode {
  if (!('SortBy' in node)) return refuseNode(node, ctx, 'in ORDER BY');
  const s: SortBy = node.SortBy;
  const position = positionOf(ctx.source, node);
  if (s.node === undefined) return refuseNode(node, ctx, 'in ORDER BY');
  if ((s.useOp?.length ?? 0) > 0) throw notAllowed('ORDER BY … USING', position, 'ORDER BY … USING is not allowed.', 'Write ASC or DESC.');
  let ref: OutputRef;
  if (isLiteral(s.node)) {
    const c = s.node.A_Const;
    const n = c.ival !== undefined ? (c.ival.ival ?? 0) : NaN;
    const item = ctx.select[n - 1];
    if (item === undefined) {
      throw notAllowed('ORDER BY', positionOf(ctx.source, s.node), `ORDER BY ${c.ival?.ival ?? '…'} is not a select-list position.`, `Use a position between 1 and ${ctx.select.length}, or an alias.`);
    }
    ref = item.ref;
  } else {
    ref = referenceOf(s.node, ctx, 'ORDER BY', true);
  }
  const direction = s.sortby_dir === 'SORTBY_DESC' ? 'desc' : 'asc';
  const nulls = s.sortby_nulls === 'SORTBY_NULLS_FIRST' ? 'first' : s.sortby_nulls === 'SORTBY_NULLS_LAST' ? 'last' : 'default';
  return { kind: 'orderBy', ref, direction, nulls };
}

export interface PostClauses {
  readonly having: Node | undefined;
  readonly sort: readonly Node[];
  readonly limit: Node | undefined;
  readonly offset: Node | undefined;
}

export function postProcessOf(clauses: PostClauses, ctx: OutputContext): PostProcessNode {
  const having = clauses.having === undefined ? undefined : predicateOf(clauses.having, ctx);
  const orderBy = clauses.sort.map((n) => orderByOf(n, ctx));
  const limit = clauses.limit === undefined ? undefined : countLiteral(clauses.limit, ctx.source, 'LIMIT');
  const offset = clauses.offset === undefined ? undefined : countLiteral(clauses.offset, ctx.source, 'OFFSET');
  return { kind: 'postProcess', having, orderBy, limit, offset: offset === 0n ? undefined : offset };
}

