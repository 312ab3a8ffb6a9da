/**
 * Answers of the services as result sets: column names with type OIDs, and rows as text (the
 * text format). Group keys keep their policy type, counts are int8, other aggregates float8;
 * raw-query columns keep their type, masked values are text.
 */
import type { RawQueryResponse } from '../access/raw-query.ts';
import type { ColumnType, Dataset } from '../policy/schema.ts';
import type { EstimateResponse } from '../queries/estimate.ts';
import type { ColumnAccuracy, JsonValue } from '../queries/noise.ts';
import { outputNames } from '../queries/noise.ts';
import type { QueryResponse } from '../queries/run.ts';
import type { QueryPlan, ValueType } from '../sql/index.ts';

export const OID = { bool: 16, int8: 20, int4: 23, text: 25, name: 19, float8: 701, date: 1082, timestamp: 1114, timestamptz: 1184, numeric: 1700 } as const;

export interface ResultColumn {
  readonly name: string;
  readonly oid: number;
}

export interface ResultSet {
  readonly columns: readonly ResultColumn[];
  readonly rows: readonly (readonly (string | null)[])[];
  readonly tag: string;
  /** NOTICE messages to send before the rows' CommandComplete. */
  readonly notices?: readonly string[];
}

const VALUE_OID: Readonly<Record<ValueType, number>> = {
  integer: OID.int8,
  numeric: OID.numeric,
  text: OID.text,
  boolean: OID.bool,
  date: OID.date,
  timestamp: OID.timestamp,
};

/** A JSON value as PostgreSQL's text output of its type. */
export function textOf(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** The result columns of an aggregate query's plan (with the interval columns when asked for). */
export function planColumns(plan: QueryPlan, accuracyColumns: boolean): ResultColumn[] {
  const names = outputNames(plan);
  const out: ResultColumn[] = [];
  plan.select.forEach((s, i) => {
    if (s.ref.kind === 'keyRef') {
      out.push({ name: names[i]!, oid: VALUE_OID[plan.keys[s.ref.key]!.type] });
      return;
    }
    const fn = plan.aggregates[s.ref.aggregate]!.fn;
    out.push({ name: names[i]!, oid: fn === 'count' || fn === 'count_distinct_units' ? OID.int8 : OID.float8 });
    if (accuracyColumns) out.push({ name: `${names[i]!}_ci_low`, oid: OID.float8 }, { name: `${names[i]!}_ci_high`, oid: OID.float8 });
  });
  return out;
}

const percent = (c: number): string => `${Number((c * 100).toPrecision(4))}%`;
const round = (x: number): number => Number(x.toPrecision(3));

/** `dpq: charged ε=0.5 δ=0 (laplace, cached: no); visits ±5.5 at 95%` */
export function accuracyNotice(answer: QueryResponse): string {
  const p = answer.privacy;
  const parts = Object.entries(answer.accuracy).map(([col, a]: [string, ColumnAccuracy]) =>
    a.ci === null ? `${col}: ${a.note}` : `${col} ±${round((a.ci[1] - a.ci[0]) / 2)} at ${percent(a.confidence)}`,
  );
  return `dpq: charged ε=${p.epsilon} δ=${p.delta} (${p.mechanism}, cached: ${p.cached ? 'yes' : 'no'})${parts.length === 0 ? '' : `; ${parts.join(', ')}`}`;
}

/** An answered aggregate query as a result set, in the HTTP answer's row order. */
export function queryResult(answer: QueryResponse, columns: readonly ResultColumn[], accuracyColumns: boolean): ResultSet {
  const rows = answer.rows.map((row: Readonly<Record<string, JsonValue>>) => {
    const out: (string | null)[] = [];
    for (const c of answer.columns) {
      const v = row[c] ?? null;
      out.push(textOf(v));
      const a = answer.accuracy[c];
      if (accuracyColumns && a !== undefined) {
        const ok = a.ci !== null && typeof v === 'number';
        out.push(ok ? textOf(v + a.ci![0]) : null, ok ? textOf(v + a.ci![1]) : null);
      }
    }
    return out;
  });
  return { columns, rows, tag: `SELECT ${rows.length}`, notices: [accuracyNotice(answer)] };
}

/** EXPLAIN: the estimate as rows — one per aggregate column, with the cost and whether it is allowed. */
export function estimateResult(e: EstimateResponse): ResultSet {
  const columns: ResultColumn[] = [
    { name: 'column', oid: OID.text },
    { name: 'epsilon', oid: OID.float8 },
    { name: 'delta', oid: OID.float8 },
    { name: 'mechanism', oid: OID.text },
    { name: 'stddev', oid: OID.float8 },
    { name: 'ci_low', oid: OID.float8 },
    { name: 'ci_high', oid: OID.float8 },
    { name: 'confidence', oid: OID.float8 },
    { name: 'allowed', oid: OID.bool },
    { name: 'epsilon_remaining', oid: OID.float8 },
    { name: 'note', oid: OID.text },
  ];
  const entries = Object.entries(e.accuracy);
  const base = (column: string | null, a: ColumnAccuracy | undefined): (string | null)[] => [
    column,
    textOf(e.epsilon),
    textOf(e.delta),
    e.mechanism,
    textOf(a?.stddev ?? null),
    textOf(a?.ci?.[0] ?? null),
    textOf(a?.ci?.[1] ?? null),
    textOf(a?.confidence ?? null),
    textOf(e.allowed),
    textOf(e.budget.epsilon.remaining),
    e.reason ?? (a !== undefined && a.ci === null ? a.note : null),
  ];
  const rows = entries.length === 0 ? [base(null, undefined)] : entries.map(([c, a]) => base(c, a));
  return { columns, rows, tag: `EXPLAIN`, notices: [] };
}

export interface BudgetRow {
  readonly dataset: string;
  readonly epsilon: { readonly limit: number; readonly spent: number; readonly remaining: number };
  readonly delta: { readonly limit: number; readonly spent: number; readonly remaining: number };
  readonly renews: string | null;
}

export function budgetResult(budgets: readonly BudgetRow[]): ResultSet {
  const f = (name: string): ResultColumn => ({ name, oid: OID.float8 });
  const columns = [{ name: 'dataset', oid: OID.text }, f('epsilon_limit'), f('epsilon_spent'), f('epsilon_remaining'), f('delta_limit'), f('delta_spent'), f('delta_remaining'), { name: 'renews', oid: OID.timestamptz }];
  // timestamptz in PostgreSQL's own text form (drivers parse that, not ISO 8601's `T…Z`).
  const renews = (iso: string | null): string | null => (iso === null ? null : iso.replace('T', ' ').replace(/(\.\d+)?Z$/, (_, f: string | undefined) => `${f ?? ''}+00`));
  const rows = budgets.map((b) => [b.dataset, ...[b.epsilon.limit, b.epsilon.spent, b.epsilon.remaining, b.delta.limit, b.delta.spent, b.delta.remaining].map(textOf), renews(b.renews)]);
  return { columns, rows, tag: `SHOW`, notices: [] };
}

const POLICY_OID: Readonly<Record<ColumnType, number>> = { id: OID.int8, integer: OID.int8, numeric: OID.numeric, text: OID.text, boolean: OID.bool, date: OID.date, timestamp: OID.timestamp };

/** The policy type of a result column named `name` (unique among the dataset's columns), if any. */
function policyTypeOf(dataset: Dataset, name: string): ColumnType | undefined {
  const types = new Set(Object.values(dataset.tables).flatMap((t) => (Object.hasOwn(t.columns, name) ? [t.columns[name]!.type] : [])));
  return types.size === 1 ? [...types][0] : undefined;
}

/**
 * A raw query's rows: columns in clear with the policy type of the column they name (ids as int8
 * when every value is an integer), masked columns and anything else as text.
 */
export function rawResult(r: RawQueryResponse, dataset: Dataset): ResultSet {
  const masked = new Set(Object.keys(r.masked).map((ref) => ref.slice(ref.indexOf('.') + 1)));
  const columns = r.columns.map((name) => {
    const type = masked.has(name) ? undefined : policyTypeOf(dataset, name);
    if (type === undefined) return { name, oid: OID.text };
    if ((type === 'id' || type === 'integer') && !r.rows.every((row) => row[name] === null || Number.isSafeInteger(row[name]))) return { name, oid: OID.text };
    return { name, oid: POLICY_OID[type] };
  });
  const rows = r.rows.map((row) => r.columns.map((c) => textOf(row[c])));
  const notice = `dpq: raw query under grant ${r.requestId}: ${r.rowCount} rows${r.truncated ? ' (truncated)' : ''}; masked: ${Object.keys(r.masked).join(', ') || 'none'}; grant used ${r.usage.queries}/${r.usage.maxQueries} queries, ${r.usage.rows}/${r.usage.maxRows} rows`;
  return { columns, rows, tag: `SELECT ${rows.length}`, notices: [notice] };
}

/** A single-row result of text columns (SHOW, session functions). */
export function textResult(columns: readonly ResultColumn[], rows: readonly (readonly (string | null)[])[], tag: string): ResultSet {
  return { columns, rows, tag, notices: [] };
}
