/**
 * A plan in plain words, for docs, logs and `estimate` responses: tables, bounding, filters, keys
 * with their domains, and each aggregate's measurements with their sensitivities.
 */
import type { FilterNode, KeyExpression, LiteralNode, QueryPlan } from './nodes.ts';

const lit = (l: LiteralNode): string => (l.type === 'text' || l.type === 'date' || l.type === 'timestamp' ? `'${String(l.value)}'` : String(l.value));

/** A filter in SQL-like words (also the identity of an aggregate's FILTER). */
export function filterText(f: FilterNode): string {
  switch (f.kind) {
    case 'compare':
      return `${f.column.name} ${f.op} ${lit(f.value)}`;
    case 'between':
      return `${f.column.name} ${f.negated ? 'NOT ' : ''}BETWEEN ${lit(f.low)} AND ${lit(f.high)}`;
    case 'in':
      return `${f.column.name} ${f.negated ? 'NOT ' : ''}IN (${f.values.map(lit).join(', ')})`;
    case 'isNull':
      return `${f.column.name} IS ${f.negated ? 'NOT ' : ''}NULL`;
    case 'like':
      return `${f.column.name} ${f.negated ? 'NOT ' : ''}${f.caseInsensitive ? 'ILIKE' : 'LIKE'} ${lit(f.pattern)}`;
    case 'and':
    case 'or':
      return `(${f.args.map(filterText).join(f.kind === 'and' ? ' AND ' : ' OR ')})`;
    case 'not':
      return `NOT ${filterText(f.arg)}`;
  }
}

/** A key expression in SQL-like words (also what makes two CASE keys the same). */
export function keyText(e: KeyExpression): string {
  if (e.kind === 'caseBucket') {
    const branches = e.branches.map((b) => `WHEN ${filterText(b.when)} THEN ${lit(b.then)}`);
    return `CASE ${branches.join(' ')}${e.otherwise === undefined ? '' : ` ELSE ${lit(e.otherwise)}`} END`;
  }
  return e.kind === 'column' ? e.name : e.kind === 'dateTrunc' ? `date_trunc('${e.unit}', ${e.column.name})` : `extract(${e.field} FROM ${e.column.name})`;
}

export function describePlan(plan: QueryPlan): string {
  const lines: string[] = [];
  lines.push(`from: ${plan.tables.map((t) => `${t.schema}.${t.name}`).join(' ⋈ ')} (unit ${plan.unit.name})`);
  const b = plan.bounding;
  lines.push(`bounding: ${b.needed ? `≤ ${b.maxRowsPerUnit} rows and ≤ ${b.maxGroupsPerUnit} keys per person` : 'none (keyed by unit)'}`);
  if (plan.filter !== undefined) lines.push(`where: ${filterText(plan.filter)}`);
  for (const k of plan.keys) {
    const d = k.domain;
    lines.push(`key ${k.index}: ${keyText(k.expression)} — ${d.kind === 'public' ? `public (${d.source}, ${d.values.length} values)` : 'private (partition selection)'}`);
  }
  if (plan.partitions.kind === 'private') lines.push(`partition selection: distinct units per group, L1 ${plan.partitions.sensitivity.l1}, L∞ ${plan.partitions.sensitivity.linf}`);
  for (const a of plan.aggregates) {
    const col = a.column === undefined ? '*' : a.column.name;
    const bounds = a.bounds === undefined ? '' : ` clamped to [${a.bounds.lower}, ${a.bounds.upper}] × ${a.bounds.granularity}`;
    const ms = a.measurements.map((i) => {
      const m = plan.measurements[i]!;
      const what = m.measure === 'count' ? `count of ${m.counts}` : m.measure === 'histogram' ? `histogram (${m.histogram!.bins} bins)` : `${m.measure}${m.center === 0n ? '' : ` centred at ${m.center}`}`;
      return `${what} [L1 ${m.sensitivity.l1}, L2² ${m.sensitivity.l2Squared}]`;
    });
    const filter = a.filter === undefined ? '' : ` filter (where ${filterText(a.filter)})`;
    lines.push(`aggregate ${a.index}: ${a.fn}(${col})${a.percentile === undefined ? '' : ` p=${a.percentile}`}${filter}${bounds} → ${ms.join('; ')}`);
  }
  const p = plan.post;
  if (p.having !== undefined) lines.push('having: on released values');
  if (p.orderBy.length > 0) lines.push(`order by: ${p.orderBy.map((o) => `${o.ref.kind === 'keyRef' ? `key ${o.ref.key}` : `aggregate ${o.ref.aggregate}`} ${o.direction}`).join(', ')}`);
  if (p.limit !== undefined) lines.push(`limit: ${p.limit}${p.offset === undefined ? '' : ` offset ${p.offset}`}`);
  return lines.join('\n');
}
