/**
 * The SQL text a query came from, and the one conversion every position goes through.
 *
 * libpg-query reports node `location`s as byte offsets into the UTF-8 encoding of the query, and a
 * syntax error's cursor as a count of characters (code points). Clients get neither: every
 * `details.position` dpq returns is a 0-based index into the SQL as a JavaScript string (UTF-16
 * code units), so that `sql.slice(position)` starts at the construct that was refused.
 */

export interface SourceText {
  readonly sql: string;
  /** The UTF-16 index of a UTF-8 byte offset (a libpg-query `location`); -1 and undefined give `fallback`. */
  fromByte(byteOffset: number | undefined, fallback?: number): number;
  /** The UTF-16 index of a code-point index (a libpg-query syntax error's cursor). */
  fromCodePoint(codePointIndex: number): number;
}

export function sourceText(sql: string): SourceText {
  // Lazily built tables: most queries are ASCII, where all three offsets agree.
  const ascii = /^[\x00-\x7f]*$/.test(sql);
  let byteToUnit: Int32Array | undefined;
  let pointToUnit: number[] | undefined;

  const buildByteTable = (): Int32Array => {
    const table = new Int32Array(Buffer.byteLength(sql, 'utf8') + 1);
    let byte = 0;
    for (let unit = 0; unit < sql.length; ) {
      const cp = sql.codePointAt(unit)!;
      const bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      for (let b = 0; b < bytes; b++) table[byte + b] = unit;
      byte += bytes;
      unit += cp >= 0x10000 ? 2 : 1;
    }
    table[byte] = sql.length;
    return table;
  };

  return Object.freeze({
    sql,
    fromByte(byteOffset: number | undefined, fallback = 0): number {
      if (byteOffset === undefined || byteOffset < 0) return fallback;
      if (ascii) return Math.min(byteOffset, sql.length);
      byteToUnit ??= buildByteTable();
      return byteToUnit[Math.min(byteOffset, byteToUnit.length - 1)]!;
    },
    fromCodePoint(codePointIndex: number): number {
      if (ascii) return Math.max(0, Math.min(codePointIndex, sql.length));
      if (pointToUnit === undefined) {
        pointToUnit = [];
        for (let unit = 0; unit < sql.length; ) {
          pointToUnit.push(unit);
          unit += sql.codePointAt(unit)! >= 0x10000 ? 2 : 1;
        }
        pointToUnit.push(sql.length);
      }
      return pointToUnit[Math.max(0, Math.min(codePointIndex, pointToUnit.length - 1))]!;
    },
  });
}
