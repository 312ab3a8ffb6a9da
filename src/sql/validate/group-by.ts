/**
 * Group keys: plain columns, `date_trunc('<unit>', col)` and `extract(<field> FROM col)` on date and
 * timestamp columns — never the unit column (it identifies a person) nor an `aggregate: false`
 * column. The same expressions may appear in the select list, where they must match a GROUP BY key.
 */
import type { CaseExpr, Node } from 'libpg-query';
import { describeNode, namesOf, notAllowed, positionOf, type SourceText } from '../parse/index.ts';
import { domainOf } from './domain.ts';
import { type CaseBucketNode, type ColumnNode, DATE_TRUNC_UNITS, type DateTruncUnit, type DomainNode, EXTRACT_FIELDS, type ExtractField, type KeyExpression, keyText, type LiteralNode, type Value, type ValueType } from '../plan/index.ts';
import { isLiteral, literalFor } from './literal.ts';
import type { Scope } from './scope.ts';
import { filterOf } from './where.ts';

export interface KeyContext {
  readonly scope: Scope;
  readonly source: SourceText;
}

/** The node is written like a key expression (a column, date_trunc(…) or extract(…)). */
export function looksLikeKey(node: Node): boolean {
  if ('ColumnRef' in node || 'CaseExpr' in node) return true;
  if (!('FuncCall' in node)) return false;
  const name = namesOf(node.FuncCall.funcname).join('.');
  return name === 'date_trunc' || (name === 'pg_catalog.extract' && node.FuncCall.funcformat === 'COERCE_SQL_SYNTAX');
}

function keyColumn(node: Node | undefined, ctx: KeyContext, fallback: number, temporal: boolean, what: string): ColumnNode {
  if (node === undefined || !('ColumnRef' in node)) {
    const position = node === undefined ? fallback : positionOf(ctx.source, node, fallback);
    const d = node === undefined ? undefined : describeNode(node, `inside ${what}`);
    throw notAllowed(d?.construct ?? what, position, d?.message ?? `${what} needs a column.`, `Write ${what === 'GROUP BY' ? 'GROUP BY region' : `${what}(…, visited_on)`}.`);
  }
  const column = ctx.scope.resolve(node.ColumnRef, 'as a group key');
  const policy = ctx.scope.policyOf(column);
  if (column.type === 'id') {
    throw notAllowed(
      `GROUP BY ${column.name}`,
      column.position,
      `The unit column ${column.name} cannot be a group key: each group would be one person.`,
      `Group by other columns; count people with COUNT(DISTINCT ${column.name}).`,
    );
  }
  if (!policy.aggregate) {
    throw notAllowed(`column ${column.name}`, column.position, `The column ${column.name} is excluded from aggregate queries (aggregate: false).`, 'Remove it from the query; it can only be seen under an approved raw-access grant.');
  }
  if (temporal && column.type !== 'date' && column.type !== 'timestamp') {
    throw notAllowed(`${what}(${column.name})`, column.position, `${what} applies to date and timestamp columns; ${column.name} is ${column.type}.`, `Group by ${column.name} itself.`);
  }
  return column;
}

/** Parse a key expression (call only when `looksLikeKey`). */
export function keyExpressionOf(node: Node, ctx: KeyContext): KeyExpression {
  const position = positionOf(ctx.source, node);
  if ('ColumnRef' in node) return keyColumn(node, ctx, position, false, 'GROUP BY');
  if ('CaseExpr' in node) return caseBucketOf(node, ctx, position);
  if (!('FuncCall' in node)) throw new TypeError('not a key expression');
  const f = node.FuncCall;
  const isExtract = namesOf(f.funcname).join('.') === 'pg_catalog.extract';
  const what = isExtract ? 'extract' : 'date_trunc';
  const allowed: readonly string[] = isExtract ? EXTRACT_FIELDS : DATE_TRUNC_UNITS;
  const args = f.args ?? [];
  if (f.over !== undefined || f.agg_star === true || f.agg_distinct === true || f.agg_filter !== undefined || (f.agg_order?.length ?? 0) > 0 || args.length !== 2) {
    throw notAllowed(what, position, `${what} takes a ${isExtract ? 'field' : 'unit'} and a column.`, isExtract ? 'Write extract(year FROM visited_on).' : "Write date_trunc('month', visited_on).");
  }
  const unitNode = args[0]!;
  const unit = 'A_Const' in unitNode && unitNode.A_Const.sval !== undefined ? (unitNode.A_Const.sval.sval ?? '').toLowerCase() : undefined;
  if (unit === undefined || !allowed.includes(unit)) {
    throw notAllowed(what, positionOf(ctx.source, unitNode, position), `${what} needs one of these ${isExtract ? 'fields' : 'units'}: ${allowed.join(', ')}.`, isExtract ? 'Write extract(year FROM visited_on).' : "Write date_trunc('month', visited_on).");
  }
  const column = keyColumn(args[1], ctx, position, true, what);
  if (column.type === 'date' && (unit === 'hour' || unit === 'minute')) {
    throw notAllowed(what, positionOf(ctx.source, unitNode, position), `${column.name} is a date: it has no ${unit}.`, "Use 'day' or a coarser unit.");
  }
  return isExtract
    ? { kind: 'extract', field: unit as ExtractField, column }
    : { kind: 'dateTrunc', unit: unit as DateTruncUnit, column };
}

const CASE_HINT = "Write CASE WHEN cost < 100 THEN 'low' WHEN cost < 1000 THEN 'mid' ELSE 'high' END.";

/** The type of a CASE result literal, as PostgreSQL would resolve the first one. */
function resultType(node: Node): ValueType | undefined {
  if (!isLiteral(node)) return undefined;
  const c = node.A_Const;
  return c.ival !== undefined ? 'integer' : c.fval !== undefined ? 'numeric' : c.boolval !== undefined ? 'boolean' : c.sval !== undefined ? 'text' : undefined;
}

/** A CASE bucket key: WHERE-rule conditions, literal results of the first result's type. */
function caseBucketOf(node: { CaseExpr: CaseExpr }, ctx: KeyContext, position: number): CaseBucketNode {
  const c = node.CaseExpr;
  if (c.arg !== undefined) {
    throw notAllowed('CASE', positionOf(ctx.source, c.arg, position), 'The simple form CASE <column> WHEN <value> … is not supported as a key.', `Write each condition in full: ${CASE_HINT}`);
  }
  const whens = (c.args ?? []).map((w) => ('CaseWhen' in w ? w.CaseWhen : undefined));
  const results = [...whens.map((w) => w?.result), ...(c.defresult === undefined ? [] : [c.defresult])];
  for (const r of results) {
    if (r === undefined || resultType(r) === undefined) {
      const at = r === undefined ? position : positionOf(ctx.source, r, position);
      throw notAllowed('CASE', at, 'A CASE key must give a literal in every THEN and ELSE (not a column, an expression or NULL): its values are then public.', CASE_HINT);
    }
  }
  const type = resultType(results[0]!)!;
  const literal = (r: Node): LiteralNode => literalFor(r, type, 'the first CASE result', ctx.source, 'as a CASE result');
  const refusal = (n: Node): Error => {
    const d = describeNode(n, 'in a CASE condition');
    return notAllowed(d.construct, positionOf(ctx.source, n, position), d.message, d.hint);
  };
  const branches = whens.map((w) => {
    if (w?.expr === undefined) throw notAllowed('CASE', position, 'Unexpected CASE branch.', CASE_HINT);
    return { when: filterOf(w.expr, { scope: ctx.scope, source: ctx.source, refusal }), then: literal(w.result!) };
  });
  return { kind: 'caseBucket', branches, otherwise: c.defresult === undefined ? undefined : literal(c.defresult), type, position };
}

/** A CASE bucket's public domain: its results in the order written, each once. */
function caseDomain(e: CaseBucketNode): DomainNode {
  const values: Value[] = [];
  for (const l of [...e.branches.map((b) => b.then), ...(e.otherwise === undefined ? [] : [e.otherwise])]) {
    if (!values.some((v) => String(v) === String(l.value))) values.push(l.value);
  }
  return { kind: 'public', source: 'derived', values, contiguous: false };
}

export function sameKey(a: KeyExpression, b: KeyExpression): boolean {
  if (a.kind === 'caseBucket' || b.kind === 'caseBucket') return a.kind === b.kind && keyText(a) === keyText(b);
  const col = (e: Exclude<KeyExpression, CaseBucketNode>): ColumnNode => (e.kind === 'column' ? e : e.column);
  const ca = col(a);
  const cb = col(b);
  if (ca.table !== cb.table || ca.name !== cb.name || a.kind !== b.kind) return false;
  if (a.kind === 'dateTrunc' && b.kind === 'dateTrunc') return a.unit === b.unit;
  if (a.kind === 'extract' && b.kind === 'extract') return a.field === b.field;
  return true;
}

export function keyTypeOf(e: KeyExpression): ValueType {
  switch (e.kind) {
    case 'column':
      return e.type as ValueType;
    case 'dateTrunc':
      return e.column.type === 'date' ? 'date' : 'timestamp';
    case 'extract':
      return 'integer';
    case 'caseBucket':
      return e.type;
  }
}

/** PostgreSQL's default output name of a key expression. */
export function keyNameOf(e: KeyExpression): string {
  return e.kind === 'column' ? e.name : e.kind === 'dateTrunc' ? 'date_trunc' : e.kind === 'extract' ? 'extract' : 'case';
}

export function keyDomainOf(e: KeyExpression, ctx: KeyContext, position: number): DomainNode {
  if (e.kind === 'caseBucket') return caseDomain(e);
  const column = e.kind === 'column' ? e : e.column;
  const d = domainOf(e, keyTypeOf(e), ctx.scope.policyOf(column));
  if ('invalid' in d) {
    throw notAllowed(`GROUP BY ${column.name}`, position, `The policy's public values for ${column.name} do not fit its type ${column.type}.`, 'Ask a policy admin to fix the values list.');
  }
  return d;
}
