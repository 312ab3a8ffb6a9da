/**
 * Bound parameters. For the pipeline a parameter is the value of the literal it stands for: each
 * `$n` token (found by the PostgreSQL scanner, so a `$1` inside a string stays text) becomes a
 * quoted literal or NULL, and the result is checked like any SQL. Catalog queries keep their
 * parameters and pass them on.
 */
import { scanSync } from 'libpg-query';
import { DpqError } from '../errors.ts';
import { ready } from '../sql/index.ts';

/** The highest `$n` of the SQL (0 when it has none). */
export async function parameterCount(sql: string): Promise<number> {
  await ready();
  let max = 0;
  try {
    const bytes = Buffer.from(sql, 'utf8');
    for (const t of scanSync(sql).tokens) if (t.tokenName === 'PARAM') max = Math.max(max, Number(bytes.subarray(t.start + 1, t.end).toString('utf8')));
  } catch {
    return 0; // the parser reports what is wrong with this SQL
  }
  return Number.isSafeInteger(max) ? max : 0;
}

const quote = (v: string): string => `'${v.replaceAll("'", "''")}'`;

/** The SQL with every `$n` replaced by the literal of its value. */
export async function substitute(sql: string, values: readonly (string | null)[]): Promise<string> {
  if (values.length === 0) return sql;
  await ready();
  const bytes = Buffer.from(sql, 'utf8');
  const parts: Buffer[] = [];
  let at = 0;
  for (const t of scanSync(sql).tokens) {
    if (t.tokenName !== 'PARAM') continue;
    const n = Number(bytes.subarray(t.start + 1, t.end).toString('utf8'));
    const v = values[n - 1];
    if (v === undefined) throw new DpqError('INVALID_REQUEST', `there is no parameter $${n}`, { parameter: n });
    parts.push(bytes.subarray(at, t.start), Buffer.from(v === null ? 'NULL' : quote(v), 'utf8'));
    at = t.end;
  }
  parts.push(bytes.subarray(at));
  return Buffer.concat(parts).toString('utf8');
}

/** A parameter in binary format, as text (the types drivers send in binary); undefined when unknown. */
export function binaryParameter(oid: number, b: Buffer): string | undefined {
  switch (oid) {
    case 16:
      return b.length === 1 ? (b[0] === 0 ? 'false' : 'true') : undefined;
    case 21:
      return b.length === 2 ? String(b.readInt16BE(0)) : undefined;
    case 23:
      return b.length === 4 ? String(b.readInt32BE(0)) : undefined;
    case 20:
      return b.length === 8 ? b.readBigInt64BE(0).toString() : undefined;
    case 700:
      return b.length === 4 ? String(b.readFloatBE(0)) : undefined;
    case 701:
      return b.length === 8 ? String(b.readDoubleBE(0)) : undefined;
    case 25:
    case 1043:
    case 19:
      return b.toString('utf8');
    default:
      return undefined;
  }
}
