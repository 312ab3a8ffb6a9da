/**
 * Exact decoding of PostgreSQL text-format values, shared by the warehouse and the state store:
 * int8 → bigint, numeric → its decimal string, date/time → their text, arrays of those → arrays.
 * Nothing numeric that could lose precision passes through a float.
 */
import type pg from 'pg';

/** A value as it comes back from PostgreSQL (arrays for int8[]/numeric[]/text[] results). */
export type Cell = string | number | bigint | boolean | null | readonly Cell[];

export const OID = {
  bool: 16,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  float4: 700,
  float8: 701,
  int8Array: 1016,
  int4Array: 1007,
  textArray: 1009,
  numericArray: 1231,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
} as const;

/** Split a one-dimensional array literal `{1,2,NULL,"a,b"}` into its element texts. */
export function splitArray(text: string): (string | null)[] {
  const inner = text.slice(1, -1);
  if (inner === '') return [];
  const out: (string | null)[] = [];
  let i = 0;
  while (i <= inner.length) {
    if (inner[i] === '"') {
      let v = '';
      i++;
      while (i < inner.length && inner[i] !== '"') {
        if (inner[i] === '\\') i++;
        v += inner[i];
        i++;
      }
      out.push(v);
      i += 2; // closing quote and comma
    } else {
      const end = inner.indexOf(',', i);
      const v = inner.slice(i, end === -1 ? inner.length : end);
      out.push(v === 'NULL' ? null : v);
      i = end === -1 ? inner.length + 1 : end + 1;
    }
  }
  return out;
}

const asBigInt = (t: string): bigint => BigInt(t);
const asNumber = (t: string): number => Number(t);
const asText = (t: string): string => t;
const asBool = (t: string): boolean => t === 't' || t === 'true';

const PARSERS: Readonly<Record<number, (text: string) => Cell>> = {
  [OID.bool]: asBool,
  [OID.int8]: asBigInt,
  [OID.int2]: asNumber,
  [OID.int4]: asNumber,
  [OID.float4]: asNumber,
  [OID.float8]: asNumber,
  [OID.numeric]: asText,
  [OID.date]: asText,
  [OID.timestamp]: asText,
  [OID.timestamptz]: asText,
  [OID.int8Array]: (t) => splitArray(t).map((v) => (v === null ? null : BigInt(v))),
  [OID.int4Array]: (t) => splitArray(t).map((v) => (v === null ? null : Number(v))),
  [OID.numericArray]: (t) => splitArray(t),
  [OID.textArray]: (t) => splitArray(t),
};

/** The parser for a type OID; unknown types stay text. */
export function parserFor(oid: number): (text: string) => Cell {
  return PARSERS[oid] ?? asText;
}

/** Every OID with a non-text parser (PGlite takes them as an object). */
export const PARSED_OIDS: readonly number[] = Object.keys(PARSERS).map(Number);

/** node-postgres type parsing for exact values. */
export const exactTypes = {
  getTypeParser: (oid: number) => parserFor(oid),
} as unknown as pg.CustomTypesConfig;
