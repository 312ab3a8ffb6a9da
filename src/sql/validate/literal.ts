/**
 * Literals of a query, checked against the type of the column they are compared with — at
 * validation, so that a literal the warehouse would reject (`cost > 'abc'`, `visited_on >
 * '2024-13-45'`, an integer beyond int8, NaN) never reaches it: an error raised inside the
 * warehouse costs budget and, in general, could depend on data. Accepted literals become typed
 * plan values that compile.ts sends as parameters, never as SQL text.
 */
import type { A_Const, Node } from 'libpg-query';
import type { ColumnType } from '../../policy/schema.ts';
import { describeNode, kindOf, notAllowed, positionOf, type SourceText } from '../parse/index.ts';
import { decimalToString, isInteger, type LiteralNode, parseDecimal, toBigInt, type Value, type ValueType } from '../plan/index.ts';

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;
/** Longest text literal or LIKE pattern accepted. */
export const MAX_TEXT_LITERAL = 1000;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$/;
const INTEGER_TEXT = /^[+-]?\d+$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The value written by an A_Const, before typing. */
type Raw =
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'null' }
  | { readonly kind: 'bits' };

function rawOf(c: A_Const): Raw {
  if (c.isnull === true) return { kind: 'null' };
  if (c.ival !== undefined) return { kind: 'number', text: String(c.ival.ival ?? 0) };
  if (c.fval !== undefined) return { kind: 'number', text: c.fval.fval ?? '0' };
  if (c.boolval !== undefined) return { kind: 'boolean', value: c.boolval.boolval ?? false };
  if (c.sval !== undefined) return { kind: 'string', text: c.sval.sval ?? '' };
  return { kind: 'bits' };
}

export function isLiteral(node: Node | undefined): node is { A_Const: A_Const } {
  return node !== undefined && 'A_Const' in node;
}

export function isValidDate(y: number, mo: number, d: number): boolean {
  if (y < 1 || mo < 1 || mo > 12 || d < 1) return false;
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]!;
  return d <= days;
}

/** `YYYY-MM-DD` when `text` is a real calendar date (years 0001–9999), else undefined. */
export function parseDate(text: string): string | undefined {
  const m = DATE.exec(text);
  if (m === null || !isValidDate(Number(m[1]), Number(m[2]), Number(m[3]))) return undefined;
  return text;
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` when `text` is a valid timestamp without time zone, else undefined. */
export function parseTimestamp(text: string): string | undefined {
  const m = TIMESTAMP.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac] = m;
  if (!isValidDate(Number(y), Number(mo), Number(d)) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  return `${y}-${mo}-${d} ${h}:${mi}:${s}${frac === undefined ? '' : `.${frac}`}`;
}

const FOR_TYPE: Readonly<Record<ValueType, string>> = {
  integer: 'a whole number within int8, like 1990',
  numeric: 'a finite number, like 12.5',
  text: "a quoted string, like 'north'",
  boolean: 'true or false',
  date: "a date 'YYYY-MM-DD', like '2024-01-31'",
  timestamp: "a timestamp 'YYYY-MM-DD HH:MM:SS' without time zone",
};

/**
 * Type one value written in the query (or a policy domain value) for a column of type `type`;
 * undefined when it does not fit.
 */
export function typeValue(raw: Raw, type: ValueType): Value | undefined {
  if (raw.kind === 'null' || raw.kind === 'bits') return undefined;
  switch (type) {
    case 'integer': {
      const text = raw.kind === 'number' ? raw.text : raw.kind === 'string' ? raw.text.trim() : undefined;
      if (text === undefined) return undefined;
      if (INTEGER_TEXT.test(text)) {
        const v = BigInt(text);
        return v >= INT8_MIN && v <= INT8_MAX ? v : undefined;
      }
      const d = raw.kind === 'number' ? parseDecimal(text) : undefined;
      if (d === undefined || !isInteger(d)) return undefined;
      const v = toBigInt(d);
      return v >= INT8_MIN && v <= INT8_MAX ? v : undefined;
    }
    case 'numeric': {
      const text = raw.kind === 'number' ? raw.text : raw.kind === 'string' ? raw.text.trim() : undefined;
      const d = text === undefined ? undefined : parseDecimal(text);
      return d === undefined ? undefined : decimalToString(d);
    }
    case 'text':
      if (raw.kind !== 'string') return undefined;
      if (raw.text.length > MAX_TEXT_LITERAL || raw.text.includes('\u0000') || LONE_SURROGATE.test(raw.text)) return undefined;
      return raw.text;
    case 'boolean':
      if (raw.kind === 'boolean') return raw.value;
      if (raw.kind === 'string' && /^(true|false)$/i.test(raw.text.trim())) return raw.text.trim().toLowerCase() === 'true';
      return undefined;
    case 'date':
      return raw.kind === 'string' ? parseDate(raw.text.trim()) : undefined;
    case 'timestamp':
      return raw.kind === 'string' ? parseTimestamp(raw.text.trim()) : undefined;
  }
}

/** The value type of a column type; undefined for `id` columns, which cannot be compared. */
export function valueTypeOf(type: ColumnType): ValueType | undefined {
  return type === 'id' ? undefined : type;
}

/**
 * A literal compared with (or listed for) a column named `what` of type `type`. Refuses NULL,
 * non-literals and values that do not fit the type.
 */
export function literalFor(node: Node, type: ValueType, what: string, source: SourceText, where: string): LiteralNode {
  const position = positionOf(source, node);
  if (!isLiteral(node)) {
    const kind = kindOf(node);
    if (kind === 'ColumnRef') {
      throw notAllowed('column comparison', position, `Comparing two columns is not allowed (${where}).`, `Compare ${what} with a literal: ${what} > 100.`);
    }
    const d = describeNode(node, where);
    throw notAllowed(d.construct, position, d.message, d.hint);
  }
  const raw = rawOf(node.A_Const);
  if (raw.kind === 'null') {
    throw notAllowed('NULL literal', position, `Comparing with NULL is never true (${where}).`, `Write ${what} IS NULL or ${what} IS NOT NULL.`);
  }
  const value = typeValue(raw, type);
  if (value === undefined) {
    const shown = raw.kind === 'string' ? 'This string' : raw.kind === 'number' ? 'This number' : 'This literal';
    throw notAllowed('literal', position, `${shown} is not ${FOR_TYPE[type]}, the type of ${what}.`, `Write ${FOR_TYPE[type]}.${type === 'numeric' ? ' NaN and Infinity are refused.' : ''}`);
  }
  return { kind: 'literal', type, value, position };
}

/** A policy domain value (`values:` in the policy) as a typed value, or undefined when it does not fit. */
export function policyValue(v: string | number | boolean, type: ValueType): Value | undefined {
  if (typeof v === 'boolean') return typeValue({ kind: 'boolean', value: v }, type);
  if (typeof v === 'number') return Number.isFinite(v) ? typeValue({ kind: 'number', text: String(v) }, type) : undefined;
  return typeValue({ kind: 'string', text: v }, type);
}

/** A non-negative whole number literal (LIMIT, OFFSET); undefined for NULL (LIMIT ALL). */
export function countLiteral(node: Node, source: SourceText, clause: string): bigint | undefined {
  const position = positionOf(source, node);
  if (isLiteral(node)) {
    const raw = rawOf(node.A_Const);
    if (raw.kind === 'null') return undefined;
    const v = typeValue(raw, 'integer');
    if (typeof v === 'bigint' && v >= 0n && raw.kind === 'number') return v;
  }
  throw notAllowed(clause, position, `${clause} must be a non-negative whole number literal.`, `Write ${clause} 10.`);
}

/** The number written by a literal, for the percentile of PERCENTILE_CONT; undefined if not a number. */
export function numberLiteral(node: Node): string | undefined {
  if (!isLiteral(node)) return undefined;
  const raw = rawOf(node.A_Const);
  return raw.kind === 'number' ? raw.text : undefined;
}
