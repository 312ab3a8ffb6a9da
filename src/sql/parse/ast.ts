/**
 * Small, total accessors over libpg-query's JSON parse tree (`Node` is a one-key wrapper such as
 * `{ColumnRef: {...}}`), and the one place that names a construct dpq does not allow, with a hint
 * of what to write instead. Anything this file does not recognise is described generically and
 * refused by the caller: the validator fails closed.
 */
import type { Node } from 'libpg-query';
import type { SourceText } from './source.ts';

/** The node's type name: `{ColumnRef: …}` → `ColumnRef`. */
export function kindOf(node: Node | undefined): string {
  return node === undefined ? 'nothing' : (Object.keys(node)[0] ?? 'unknown');
}

/** The body of a node: `{ColumnRef: body}` → body. */
export function bodyOf(node: Node): Record<string, unknown> {
  const v = Object.values(node)[0];
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

/** The smallest source location (byte offset) in a node or below it: where its text starts. */
export function leftmostByteLocation(value: unknown): number | undefined {
  if (Array.isArray(value)) {
    let best: number | undefined;
    for (const v of value) {
      const l = leftmostByteLocation(v);
      if (l !== undefined && (best === undefined || l < best)) best = l;
    }
    return best;
  }
  if (value === null || typeof value !== 'object') return undefined;
  let best: number | undefined;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const l = k === 'location' ? (typeof v === 'number' && v >= 0 ? v : undefined) : leftmostByteLocation(v);
    if (l !== undefined && (best === undefined || l < best)) best = l;
  }
  return best;
}

/**
 * A node's own source location (PostgreSQL's: the operator of an expression, the keyword of a
 * construct), or where its text starts when it has none.
 */
export function byteLocationOf(value: unknown): number | undefined {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const body = keys.length === 1 ? (value as Record<string, unknown>)[keys[0]!] : undefined;
    const own = (body !== null && typeof body === 'object' ? (body as Record<string, unknown>).location : undefined) ?? (value as Record<string, unknown>).location;
    if (typeof own === 'number' && own >= 0) return own;
  }
  return leftmostByteLocation(value);
}

/** A node's position in the SQL text (a UTF-16 index), or `fallback` when the tree keeps none. */
export function positionOf(source: SourceText, node: unknown, fallback = 0): number {
  return source.fromByte(byteLocationOf(node), fallback);
}

/** Where a node's text starts (its leftmost location). */
export function startOf(source: SourceText, node: unknown, fallback = 0): number {
  return source.fromByte(leftmostByteLocation(node), fallback);
}

/** The strings of a name list (`funcname`, `ColumnRef.fields`, `TypeName.names`); `*` for A_Star. */
export function namesOf(list: readonly Node[] | undefined): string[] {
  return (list ?? []).map((n) => ('String' in n ? (n.String.sval ?? '') : 'A_Star' in n ? '*' : `<${kindOf(n)}>`));
}

export interface Described {
  readonly construct: string;
  readonly message: string;
  readonly hint: string;
}

const ARITHMETIC = new Set(['+', '-', '*', '/', '%', '^', '|/', '||/', '@', '&', '|', '#', '~', '<<', '>>', '||']);

/**
 * Name a construct that is not allowed where it stands, and say what to write instead.
 * `where` is the clause, for the message ("in WHERE").
 */
export function describeNode(node: Node, where: string): Described {
  const kind = kindOf(node);
  const b = bodyOf(node);
  switch (kind) {
    case 'SubLink':
      return {
        construct: 'subquery',
        message: `Subqueries are not allowed (${where}).`,
        hint: 'Write one SELECT over a dataset table; filter with literals, e.g. WHERE region IN (\'north\', \'south\').',
      };
    case 'TypeCast':
      return {
        construct: 'cast',
        message: `Casts are not allowed (${where}): a cast can fail on one person's value and leak it.`,
        hint: "Write the literal without a cast (visited_on >= '2024-01-01'); dpq checks it against the column's type.",
      };
    case 'FuncCall': {
      const name = namesOf(b.funcname as Node[] | undefined).join('.');
      if (b.over !== undefined) {
        return {
          construct: 'window function',
          message: `Window functions are not allowed (${name} OVER …).`,
          hint: 'Use plain aggregates with GROUP BY.',
        };
      }
      return {
        construct: `function ${name}`,
        message: `The function ${name}() is not allowed ${where}.`,
        hint: 'Allowed: COUNT, SUM, AVG, VARIANCE/STDDEV (_POP/_SAMP), PERCENTILE_CONT … WITHIN GROUP, MEDIAN in the select list; date_trunc and extract on date columns in GROUP BY.',
      };
    }
    case 'A_Expr': {
      const op = namesOf(b.name as Node[] | undefined).join(' ');
      const akind = String(b.kind ?? '');
      if (akind === 'AEXPR_OP' && b.lexpr !== undefined && ['~', '~*', '!~', '!~*'].includes(op)) {
        return { construct: `operator ${op}`, message: `Regular expressions (${op}) are not allowed ${where}: they can run long on one person's value.`, hint: "Use LIKE with a literal pattern: diagnosis LIKE 'J%'." };
      }
      if (akind === 'AEXPR_OP' && ARITHMETIC.has(op)) {
        return {
          construct: `operator ${op}`,
          message: `Arithmetic (${op}) is not allowed ${where}.`,
          hint: 'Aggregate a column, arithmetic is not allowed: write SUM(cost), not SUM(cost * 2); compute on the released values instead.',
        };
      }
      if (akind === 'AEXPR_SIMILAR') {
        return { construct: 'SIMILAR TO', message: `SIMILAR TO (a regular expression) is not allowed ${where}.`, hint: "Use LIKE with a literal pattern: diagnosis LIKE 'J%'." };
      }
      if (akind === 'AEXPR_OP_ANY' || akind === 'AEXPR_OP_ALL') {
        return { construct: akind === 'AEXPR_OP_ANY' ? 'ANY' : 'ALL', message: `ANY/ALL is not allowed ${where}.`, hint: "Use IN with literals: region IN ('north', 'south')." };
      }
      if (akind === 'AEXPR_DISTINCT' || akind === 'AEXPR_NOT_DISTINCT') {
        return { construct: 'IS DISTINCT FROM', message: `IS [NOT] DISTINCT FROM is not allowed ${where}.`, hint: 'Use = / <> with a literal, or IS [NOT] NULL.' };
      }
      if (akind === 'AEXPR_NULLIF') return { construct: 'NULLIF', message: `NULLIF is not allowed ${where}.`, hint: 'Aggregate a plain column.' };
      if (akind === 'AEXPR_BETWEEN_SYM' || akind === 'AEXPR_NOT_BETWEEN_SYM') {
        return { construct: 'BETWEEN SYMMETRIC', message: 'BETWEEN SYMMETRIC is not allowed.', hint: 'Write BETWEEN low AND high with low ≤ high.' };
      }
      return { construct: `operator ${op}`, message: `The operator ${op} is not allowed ${where}.`, hint: 'Compare a column with a literal using = <> < <= > >=, BETWEEN, IN, LIKE/ILIKE or IS [NOT] NULL.' };
    }
    case 'A_Const':
      return { construct: 'literal', message: `A literal is not allowed here (${where}).`, hint: 'Literals may only be compared with a column in WHERE or HAVING.' };
    case 'ParamRef':
      return {
        construct: 'parameter',
        message: `Parameters ($${String(b.number ?? '')}) are not accepted.`,
        hint: 'Write the literal in the query; dpq checks it and sends it to the warehouse as a parameter itself.',
      };
    case 'ColumnRef':
      return { construct: 'column', message: `A column is not allowed here (${where}).`, hint: 'Use a column inside an aggregate or as a group key.' };
    case 'CaseExpr':
      return { construct: 'CASE', message: `CASE is not allowed ${where}.`, hint: 'Filter with WHERE and group with GROUP BY instead.' };
    case 'CoalesceExpr':
      return { construct: 'COALESCE', message: `COALESCE is not allowed ${where}.`, hint: 'Aggregate a plain column: NULLs are skipped by COUNT(col) and SUM/AVG.' };
    case 'MinMaxExpr':
      return { construct: 'GREATEST/LEAST', message: `GREATEST/LEAST is not allowed ${where}.`, hint: 'dpq clamps values to the policy bounds itself.' };
    case 'NullIfExpr':
      return { construct: 'NULLIF', message: `NULLIF is not allowed ${where}.`, hint: 'Aggregate a plain column.' };
    case 'BooleanTest':
      return { construct: 'IS TRUE/FALSE/UNKNOWN', message: `IS [NOT] TRUE/FALSE/UNKNOWN is not allowed ${where}.`, hint: 'Write column = true, column = false or column IS NULL.' };
    case 'SQLValueFunction': {
      const fn = String(b.op ?? 'SVFOP_CURRENT_DATE').replace('SVFOP_', '').replace(/_N$/, '');
      return { construct: fn, message: `${fn} is not allowed ${where}.`, hint: "Write the value as a literal: visited_on >= '2024-01-01'." };
    }
    case 'CollateClause':
      return { construct: 'COLLATE', message: `COLLATE is not allowed ${where}.`, hint: 'Compare without a collation clause.' };
    case 'A_Indirection':
      return { construct: 'subscript', message: `Subscripts and field selection are not allowed ${where}.`, hint: 'Use plain columns.' };
    case 'A_ArrayExpr':
      return { construct: 'ARRAY', message: `Arrays are not allowed ${where}.`, hint: "Use IN with literals: region IN ('north', 'south')." };
    case 'RowExpr':
      return { construct: 'row constructor', message: `Row constructors are not allowed ${where}.`, hint: 'Compare one column with one literal at a time.' };
    case 'GroupingFunc':
      return { construct: 'GROUPING', message: 'GROUPING() is not allowed.', hint: 'Use plain GROUP BY keys.' };
    case 'XmlExpr':
    case 'XmlSerialize':
      return { construct: 'XML', message: `XML functions are not allowed ${where}.`, hint: 'Use plain columns.' };
    default:
      return { construct: kind, message: `${kind} is not allowed ${where}.`, hint: 'See docs/sql.md for the allowed subset.' };
  }
}
