/** The options `dpq query` and `dpq estimate` share, and the request body they make. */
import { numberOption, UsageError } from '../command.ts';
import { FORMAT_OPTIONS } from './output.ts';

export const QUERY_OPTIONS = {
  dataset: { type: 'string' },
  epsilon: { type: 'string' },
  delta: { type: 'string' },
  mechanism: { type: 'string' },
  confidence: { type: 'string' },
  ...FORMAT_OPTIONS,
} as const;

export const QUERY_OPTIONS_HELP = `  --dataset D        the dataset (optional when you may query one only)
  --epsilon E        the ε to spend (default: the dataset's)
  --delta D          the most δ this query may use
  --mechanism M      laplace | gaussian
  --confidence C     for the reported intervals (default 0.95)
  --json | --csv     the API's answer as JSON, or the rows as CSV (default: a table)`;

export function queryBody(sql: string, v: { dataset?: string | undefined; epsilon?: string | undefined; delta?: string | undefined; mechanism?: string | undefined; confidence?: string | undefined }): Record<string, unknown> {
  if (sql.trim() === '') throw new UsageError('the SQL is empty');
  if (v.mechanism !== undefined && v.mechanism !== 'laplace' && v.mechanism !== 'gaussian') throw new UsageError('--mechanism is laplace or gaussian');
  const body: Record<string, unknown> = { sql };
  if (v.dataset !== undefined) body.dataset = v.dataset;
  for (const k of ['epsilon', 'delta', 'confidence'] as const) {
    const n = numberOption(v[k], k);
    if (n !== undefined) body[k] = n;
  }
  if (v.mechanism !== undefined) body.mechanism = v.mechanism;
  return body;
}

/** ± half-width of an accuracy entry, or undefined. */
export function halfWidth(a: { ci: readonly [number, number] | null } | undefined): number | undefined {
  return a?.ci === null || a?.ci === undefined ? undefined : Math.max(Math.abs(a.ci[0]), Math.abs(a.ci[1]));
}
