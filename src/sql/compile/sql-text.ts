/**
 * The two primitives every piece of compiled SQL is made of: quoted identifiers and typed
 * parameters. No value — from the query or from the policy — is ever written into SQL text; it
 * becomes a `$n::type` parameter, sent as text and parsed by the warehouse's input function.
 */
import type { Value, ValueType } from '../plan/index.ts';

/** A double-quoted identifier (`"a""b"` for `a"b`). */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The PostgreSQL type a parameter of this value type is cast to. */
export const SQL_TYPE: Readonly<Record<ValueType, string>> = {
  integer: 'int8',
  numeric: 'numeric',
  text: 'text',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamp',
};

/** The text a value is sent as. */
export function paramText(value: Value): string {
  return typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value);
}

/**
 * Collects parameters in order; `add` returns the `$n::type` placeholder (or a bare `$n`, which
 * PostgreSQL types from its context — for raw queries' id columns, whose SQL type the policy does
 * not name).
 */
export class Params {
  readonly #values: string[] = [];

  add(value: Value, type?: string): string {
    this.#values.push(paramText(value));
    return type === undefined ? `$${this.#values.length}` : `$${this.#values.length}::${type}`;
  }

  typed(value: Value, type: ValueType): string {
    return this.add(value, SQL_TYPE[type]);
  }

  get values(): readonly string[] {
    return Object.freeze([...this.#values]);
  }
}
