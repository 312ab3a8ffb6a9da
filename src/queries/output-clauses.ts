/**
 * HAVING, ORDER BY, LIMIT and OFFSET applied to released (noisy) rows: post-processing, free of
 * privacy cost. Comparisons follow SQL: NULL compares as unknown (a HAVING row with unknown is
 * dropped), numbers numerically, dates and text as text, NULLs last ascending unless told.
 */
import type { LiteralNode, OperandNode, OrderByNode, OutputRef, PostProcessNode, PredicateNode } from '../sql/index.ts';

/** A released value as it appears in a JSON row. */
export type JsonValue = string | number | boolean | null;

/** A released group before it becomes a JSON row: key values and every aggregate's value. */
export interface ReleasedGroup {
  readonly keys: readonly JsonValue[];
  readonly aggregates: readonly JsonValue[];
}

function literalValue(l: LiteralNode): JsonValue {
  if (typeof l.value === 'bigint') return Number(l.value);
  if (l.type === 'numeric') return Number(l.value);
  return l.value as string | boolean;
}

/** SQL-style three-way comparison; undefined when either side is NULL. */
function compare(a: JsonValue, b: JsonValue): number | undefined {
  if (a === null || b === null) return undefined;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' || typeof b === 'number') {
    const x = Number(a);
    const y = Number(b);
    if (Number.isFinite(x) && Number.isFinite(y)) return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function applyPostProcessing(post: PostProcessNode, rows: readonly ReleasedGroup[]): ReleasedGroup[] {
  const value = (row: ReleasedGroup, op: OperandNode | OutputRef): JsonValue => {
    if (op.kind === 'literal') return literalValue(op);
    return (op.kind === 'keyRef' ? row.keys[op.key] : row.aggregates[op.aggregate]) ?? null;
  };
  const test = (row: ReleasedGroup, p: PredicateNode): boolean | undefined => {
    switch (p.kind) {
      case 'compare': {
        const c = compare(value(row, p.left), value(row, p.right));
        if (c === undefined) return undefined;
        return { '=': c === 0, '<>': c !== 0, '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0 }[p.op];
      }
      case 'between': {
        const v = value(row, p.operand);
        const lo = compare(v, value(row, p.low));
        const hi = compare(v, value(row, p.high));
        if (lo === undefined || hi === undefined) return undefined;
        return (lo >= 0 && hi <= 0) !== p.negated;
      }
      case 'isNull':
        return (value(row, p.operand) === null) !== p.negated;
      case 'and': {
        const r = p.args.map((a) => test(row, a));
        return r.includes(false) ? false : r.includes(undefined) ? undefined : true;
      }
      case 'or': {
        const r = p.args.map((a) => test(row, a));
        return r.includes(true) ? true : r.includes(undefined) ? undefined : false;
      }
      case 'not': {
        const r = test(row, p.arg);
        return r === undefined ? undefined : !r;
      }
    }
  };
  let out = post.having === undefined ? [...rows] : rows.filter((r) => test(r, post.having!) === true);
  if (post.orderBy.length > 0) {
    const keyed = out.map((row, i) => ({ row, i }));
    keyed.sort((x, y) => {
      for (const o of post.orderBy) {
        const c = orderCompare(value(x.row, o.ref), value(y.row, o.ref), o);
        if (c !== 0) return c;
      }
      return x.i - y.i;
    });
    out = keyed.map((k) => k.row);
  }
  const offset = Number(post.offset ?? 0n);
  const end = post.limit === undefined ? undefined : offset + Number(post.limit);
  return out.slice(offset, end);
}

function orderCompare(a: JsonValue, b: JsonValue, o: OrderByNode): number {
  const desc = o.direction === 'desc';
  const nullsFirst = o.nulls === 'default' ? desc : o.nulls === 'first';
  if (a === null || b === null) {
    if (a === b) return 0;
    return (a === null) === nullsFirst ? -1 : 1;
  }
  const c = compare(a, b)!;
  return desc ? -c : c;
}
