/**
 * Public domains of group keys. A key's domain is public when its values are known without looking
 * at the data, so every value can be released (empty ones as noisy zeros) with no partition
 * selection and no δ:
 * - a column with policy `values`;
 * - `extract(field FROM col)` for fields with a fixed range (month 1–12, dow 0–6, …);
 * - `extract(year|isoyear …)` and `date_trunc('day'|'week'|'month'|'quarter'|'year', col)` when the
 *   column has policy `bounds`: every value between the bounds. Rows outside the bounds fall outside
 *   the domain and are dropped, as for any public domain.
 * A derived domain of more than MAX_DERIVED_DOMAIN values stays private (partition selection).
 */
import type { Column } from '../../policy/schema.ts';
import { parseDate, policyValue } from './literal.ts';
import type { DateTruncNode, DomainNode, ExtractField, ExtractNode, KeyExpression, Value, ValueType } from '../plan/index.ts';

export const MAX_DERIVED_DOMAIN = 1000;

const FIXED_RANGES: Partial<Readonly<Record<ExtractField, readonly [number, number]>>> = {
  minute: [0, 59],
  hour: [0, 23],
  day: [1, 31],
  dow: [0, 6],
  isodow: [1, 7],
  doy: [1, 366],
  week: [1, 53],
  month: [1, 12],
  quarter: [1, 4],
};

const DAY = 86_400_000;
const PRIVATE: DomainNode = { kind: 'private' };

/** The domain of a group key. `policy` is the key column's policy entry. */
export function domainOf(expr: KeyExpression, keyType: ValueType, policy: Column): DomainNode | { readonly invalid: true } {
  switch (expr.kind) {
    case 'column': {
      if (policy.values === undefined) return PRIVATE;
      const values: Value[] = [];
      const seen = new Set<string>();
      for (const v of policy.values) {
        const typed = policyValue(v, keyType);
        if (typed === undefined) return { invalid: true };
        const id = String(typed);
        if (!seen.has(id)) {
          seen.add(id);
          values.push(typed);
        }
      }
      return { kind: 'public', source: 'policy', values, contiguous: false };
    }
    case 'extract':
      return extractDomain(expr, policy);
    case 'dateTrunc':
      return truncDomain(expr, keyType, policy);
    case 'caseBucket':
      // Its domain is its listed results, with no column policy to read (group-by.ts).
      return { invalid: true };
  }
}

function integers(lo: number, hi: number): DomainNode {
  if (hi < lo || hi - lo + 1 > MAX_DERIVED_DOMAIN) return PRIVATE;
  return { kind: 'public', source: 'derived', values: Array.from({ length: hi - lo + 1 }, (_, i) => BigInt(lo + i)), contiguous: true };
}

/** The policy bounds of a date/timestamp column as UTC day numbers (ms), or undefined. */
function dayBounds(policy: Column): [number, number] | undefined {
  const b = policy.bounds;
  if (b === undefined || typeof b[0] !== 'string' || typeof b[1] !== 'string') return undefined;
  const lo = parseDate(b[0].slice(0, 10));
  const hi = parseDate(b[1].slice(0, 10));
  if (lo === undefined || hi === undefined) return undefined;
  return [Date.parse(`${lo}T00:00:00Z`), Date.parse(`${hi}T00:00:00Z`)];
}

/** ISO 8601 week-numbering year of a UTC day. */
export function isoYear(ms: number): number {
  const d = new Date(ms);
  const dow = (d.getUTCDay() + 6) % 7; // Monday = 0
  return new Date(ms + (3 - dow) * DAY).getUTCFullYear(); // the Thursday of its week
}

function extractDomain(expr: ExtractNode, policy: Column): DomainNode {
  const fixed = FIXED_RANGES[expr.field];
  if (fixed !== undefined) return integers(fixed[0], fixed[1]);
  const days = dayBounds(policy);
  if (days === undefined) return PRIVATE;
  if (expr.field === 'year') return integers(new Date(days[0]).getUTCFullYear(), new Date(days[1]).getUTCFullYear());
  return integers(isoYear(days[0]), isoYear(days[1]));
}

/** The start of the date_trunc period holding a UTC day. */
function truncate(ms: number, unit: DateTruncNode['unit']): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (unit) {
    case 'week':
      return ms - ((d.getUTCDay() + 6) % 7) * DAY;
    case 'month':
      return Date.UTC(y, m, 1);
    case 'quarter':
      return Date.UTC(y, m - (m % 3), 1);
    case 'year':
      return Date.UTC(y, 0, 1);
    default:
      return ms;
  }
}

function next(ms: number, unit: DateTruncNode['unit']): number {
  const d = new Date(ms);
  switch (unit) {
    case 'week':
      return ms + 7 * DAY;
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    case 'quarter':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 3, 1);
    case 'year':
      return Date.UTC(d.getUTCFullYear() + 1, 0, 1);
    default:
      return ms + DAY;
  }
}

function truncDomain(expr: DateTruncNode, keyType: ValueType, policy: Column): DomainNode {
  if (expr.unit === 'hour' || expr.unit === 'minute') return PRIVATE;
  const days = dayBounds(policy);
  if (days === undefined) return PRIVATE;
  const values: Value[] = [];
  for (let t = truncate(days[0], expr.unit); t <= days[1]; t = next(t, expr.unit)) {
    if (values.length >= MAX_DERIVED_DOMAIN) return PRIVATE;
    const day = new Date(t).toISOString().slice(0, 10);
    values.push(keyType === 'timestamp' ? `${day} 00:00:00` : day);
  }
  return { kind: 'public', source: 'derived', values, contiguous: true };
}
