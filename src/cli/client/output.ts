/** Output of the client commands: an aligned table (default), `--json` (the API's answer as it is) or `--csv`. */
export type Format = 'table' | 'json' | 'csv';

export const FORMAT_OPTIONS = {
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
} as const;

export function formatOf(values: { json?: boolean | undefined; csv?: boolean | undefined }): Format {
  return values.json === true ? 'json' : values.csv === true ? 'csv' : 'table';
}

type Cell = string | number | boolean | null | undefined;

export function text(v: Cell | unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(8)));
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Columns padded to their widest cell; numbers right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = rows.map((r) => r.map(text));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined));
  const line = (r: readonly string[]): string => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** RFC 4180: quote a field holding a comma, quote, CR or LF. */
export function csv(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const field = (v: Cell): string => {
    const s = text(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [headers.map((h) => field(h)), ...rows.map((r) => r.map(field))].map((r) => r.join(',')).join('\r\n');
}

/** Print rows in the chosen format (json prints `raw`, the API's own answer). */
export function print(format: Format, raw: unknown, headers: readonly string[], rows: readonly (readonly Cell[])[], after: readonly string[] = []): void {
  if (format === 'json') process.stdout.write(`${JSON.stringify(raw, null, 2)}\n`);
  else if (format === 'csv') process.stdout.write(`${csv(headers, rows)}\r\n`);
  else process.stdout.write(`${[table(headers, rows), ...after].join('\n')}\n`);
}
