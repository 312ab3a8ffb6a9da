/**
 * Step 4: a plan → one parametrized PostgreSQL query that returns the exact, bounded measurements
 * the noise step perturbs. Every identifier is quoted, every value is a `$n` parameter.
 *
 * The query, stage by stage (each a CTE; PostgreSQL inlines those used once):
 * 1. `src`: the rows of the FROM clause that pass WHERE, with a non-NULL unit, and — for public
 *    domains — a key inside the domain (rows outside it never count, not even towards a person's
 *    bounds). Projects the unit `u`, the keys `k0…`, and the raw inputs `r0…` the aggregates need.
 * 2. `bounded` (skipped when every table is keyed by its unit): contribution bounding. Each
 *    person's rows are sorted by a hash of their keys, then by a hash of their raw inputs, both
 *    seeded by the hash of the person (`hashChain`) — a deterministic per-person pseudo-random
 *    order that depends only on that person's rows (never `random()`) — and a person keeps the rows of their
 *    first `maxGroupsPerUnit` keys (`dense_rank`) up to `maxRowsPerUnit` rows (`row_number`).
 *    `first` marks a person's first row in each group, so distinct units per group are a plain
 *    filtered count. The row window's own ORDER BY holds every tie-breaker (hash, keys, row
 *    hash, raw values), so the choice is fixed by SQL semantics, not by the plan; the key window's
 *    order (hash, keys) is a prefix of it, so one sort serves both.
 *    Queries that only count rows and units skip the sort: a hash aggregate per (person, key) pair,
 *    then the same rule on pairs (a pair keeps min(c, m − rows of the person's earlier keys)).
 * 3. `rows`: the kept rows with every bounded value clamped and put on its grid: NULL and NaN are
 *    absent (GREATEST/LEAST alone would turn NULL into a bound and NaN into the upper bound), then
 *    x = round(clamp(v) / granularity) as int8.
 * 4. `agg`: per group, exact integers: counts (int8) and sums of grid values (numeric, as PostgreSQL
 *    sums int8); a quantile's histogram comes from `h<i>` as text `bin:count,…` and is merged in.
 * 5. public domains: the cross product of the domains (VALUES lists) left-joined to the groups, so
 *    every declared value has a row (zeros when empty), in domain order.
 * Without GROUP BY the result is one row, also on empty input (a plain aggregate always is).
 */
import { columnSql, DomainParams, filterSql, fromSql, gridSql, keySql } from './expressions.ts';
import { hashChain, keyHashKind, unitHash } from './hash-order.ts';
import { type ColumnNode, filterText, histogramWidth, type MeasureKind, type MeasurementNode, type QueryPlan } from '../plan/index.ts';
import { ident, Params } from './sql-text.ts';

/** What the i-th column of the compiled query's result holds. */
export type OutputColumn =
  | { readonly kind: 'key'; readonly key: number }
  | { readonly kind: 'units' }
  | { readonly kind: 'measure'; readonly aggregate: number; readonly measure: MeasureKind; readonly measurement: number };

export interface CompiledQuery {
  readonly sql: string;
  /** Parameter values as text, for `$1`, `$2`, … (each placeholder carries its type cast). */
  readonly params: readonly string[];
  readonly outputs: readonly OutputColumn[];
}

/** Deviations up to this keep (x − c)² inside int8; beyond it sums of squares use numeric. */
const INT8_SQUARE_SAFE = 3_037_000_499n;

interface Inputs {
  /** Raw columns carried through bounding: `r<i>` → SQL over the FROM clause. */
  readonly raw: { name: string; sql: string; flag: boolean }[];
  /** The raw input of a column's values (bounded aggregates) and of its non-null flag (COUNT(col)). */
  valueOf(c: ColumnNode): string;
  flagOf(c: ColumnNode): string;
  /** The raw input of an aggregate's `FILTER (WHERE …)`: true where it holds (false for NULL). */
  filterFlagOf(id: string, sql: () => string): string;
}

function inputs(): Inputs {
  const raw: { name: string; sql: string; flag: boolean }[] = [];
  const byKey = new Map<string, string>();
  const get = (key: string, sql: () => string): string => {
    let name = byKey.get(key);
    if (name === undefined) {
      name = `r${raw.length}`;
      byKey.set(key, name);
      raw.push({ name, sql: sql(), flag: !key.startsWith('v:') });
    }
    return name;
  };
  return {
    raw,
    valueOf: (c) => get(`v:${c.table}.${c.name}`, () => columnSql(c)),
    flagOf: (c) => get(`f:${c.table}.${c.name}`, () => `(${columnSql(c)} IS NOT NULL)`),
    filterFlagOf: (id, sql) => get(`w:${id}`, () => `COALESCE(${sql()}, false)`),
  };
}

/**
 * `keyed.ok`: in the snapshot of the read itself, every table of the plan is a plain table or a
 * materialized view without inheritance children or partitions, with a valid, immediate,
 * non-partial unique index on its unit column alone — so it holds at most one row per person. A
 * catalog that changed since planning (a dropped index, an added child) turns the bounding back on.
 */
function keyedGuard(plan: QueryPlan, params: Params): string {
  const tables = [...new Map(plan.tables.map((t) => [JSON.stringify([t.schema, t.name]), t])).values()];
  const wanted = tables.map((t) => `(${params.add(t.schema, 'text')}, ${params.add(t.name, 'text')}, ${params.add(t.unit, 'text')})`);
  return (
    `${ident('keyed')} AS (\n  SELECT count(DISTINCT c.oid) = ${params.add(BigInt(tables.length), 'int8')} AS ${ident('ok')}\n` +
    `  FROM pg_catalog.pg_class c\n    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n` +
    `    JOIN pg_catalog.pg_index i ON i.indrelid = c.oid\n    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]\n` +
    `  WHERE (n.nspname::text, c.relname::text, a.attname::text) IN (${wanted.join(', ')})\n` +
    `    AND c.relkind IN ('r', 'm') AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhparent = c.oid)\n` +
    `    AND i.indisunique AND i.indisvalid AND i.indimmediate AND i.indnkeyatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL\n)`
  );
}

/** A measurement's SQL in `agg`, or (histograms) the measurement its own CTE computes. */
interface Measure {
  readonly name: string;
  readonly sql: (() => string) | undefined;
  readonly histogram?: MeasurementNode;
}

/** What every stage reads and appends to: the plan, the parameters in text order, the CTEs. */
interface CompileContext {
  readonly plan: QueryPlan;
  readonly params: Params;
  readonly io: Inputs;
  readonly keyNames: readonly string[];
  readonly grouped: boolean;
  /**
   * Every table keyed by its unit (catalog hint): aggregate `src` directly, but only when the
   * catalog in the read's own snapshot confirms it (`keyed`); otherwise the bounded rows are used.
   */
  readonly keyed: boolean;
  /** `first` (a person's first kept row in a group) is only needed to count distinct units. */
  readonly needFirst: boolean;
  /**
   * Counting rows and units does not depend on which of a person's rows in a key are kept, only on
   * how many: such queries bound per (person, key) pair after a hash aggregate, without sorting rows.
   */
  readonly countOnly: boolean;
  /** Grid values `x<i>` computed in `rows` (registered by `gridValueOf`). */
  readonly grid: { name: string; sql: () => string }[];
  readonly gridNames: Map<string, string>;
  readonly ctes: string[];
}

function contextOf(plan: QueryPlan): CompileContext {
  return {
    plan,
    params: new Params(),
    io: inputs(),
    keyNames: plan.keys.map((k) => ident(`k${k.index}`)),
    grouped: plan.keys.length > 0,
    keyed: !plan.bounding.needed,
    needFirst: !plan.bounding.needed || plan.partitions.kind === 'private' || plan.measurements.some((m) => m.counts === 'units'),
    countOnly:
      plan.bounding.needed &&
      plan.aggregates.every((a) => a.filter === undefined) &&
      plan.measurements.every((m) => m.measure === 'count' && (m.counts === 'rows' || m.counts === 'units')),
    grid: [],
    gridNames: new Map(),
    ctes: [],
  };
}

/**
 * The raw flag of an aggregate's FILTER (computed in `src`, carried through bounding), or undefined
 * without one. Identical filters share one flag.
 */
function filterFlag(ctx: CompileContext, aggregate: number): string | undefined {
  const f = ctx.plan.aggregates[aggregate]!.filter;
  return f === undefined ? undefined : ctx.io.filterFlagOf(filterText(f), () => filterSql(f, ctx.params));
}

/** The grid value `x<i>` of a bounded aggregate's column (registering its raw input), NULL where its FILTER fails. */
function gridValueOf(ctx: CompileContext, m: MeasurementNode): string {
  const a = ctx.plan.aggregates[m.aggregate]!;
  const c = a.column!;
  const b = a.bounds!;
  const flag = filterFlag(ctx, m.aggregate);
  const id = `${c.table}.${c.name}|${flag ?? ''}`;
  let name = ctx.gridNames.get(id);
  if (name === undefined) {
    name = `x${ctx.grid.length}`;
    const raw = ctx.io.valueOf(c);
    ctx.gridNames.set(id, name);
    ctx.grid.push({
      name,
      sql: () => {
        const x = gridSql(raw, c, b.lower, b.upper, b.granularity, ctx.params);
        return flag === undefined ? x : `CASE WHEN ${ident(flag)} THEN ${x} END`;
      },
    });
  }
  return name;
}

/** Measurement expressions over `rows`; their SQL is rendered later, so parameters stay in text order. */
function measuresOf(ctx: CompileContext): Measure[] {
  const { plan, params, io } = ctx;
  return plan.measurements.map((m): Measure => {
    const name = `m${m.index}`;
    const a = plan.aggregates[m.aggregate]!;
    switch (m.measure) {
      case 'count': {
        if (m.counts === 'rows') {
          const where = filterFlag(ctx, m.aggregate);
          if (where !== undefined) return { name, sql: () => `count(*) FILTER (WHERE ${ident(where)})` };
          return { name, sql: () => (ctx.countOnly ? `COALESCE(sum(${ident('n')}), 0)::int8` : 'count(*)') };
        }
        if (m.counts === 'units') return { name, sql: () => `count(*) FILTER (WHERE ${ident('first')})` };
        if (a.fn === 'count') {
          const flag = io.flagOf(a.column!);
          const where = filterFlag(ctx, m.aggregate);
          return { name, sql: () => `count(*) FILTER (WHERE ${ident(flag)}${where === undefined ? '' : ` AND ${ident(where)}`})` };
        }
        const x = gridValueOf(ctx, m);
        return { name, sql: () => `count(${ident(x)})` };
      }
      case 'sum': {
        const x = gridValueOf(ctx, m);
        return {
          name,
          sql: () => (m.center === 0n ? `COALESCE(sum(${ident(x)}), 0)` : `COALESCE(sum(${ident(x)} - ${params.add(m.center, 'int8')}), 0)`),
        };
      }
      case 'sumsq': {
        const x = gridValueOf(ctx, m);
        const b = a.bounds!;
        const dev = [b.upper - m.center, m.center - b.lower].reduce((p, q) => (p > q ? p : q));
        return {
          name,
          sql: () => {
            const c = params.add(m.center, 'int8');
            const d = `(${ident(x)} - ${c})`;
            return dev <= INT8_SQUARE_SAFE ? `COALESCE(sum(${d} * ${d}), 0)` : `COALESCE(sum(${d}::numeric * ${d}), 0)`;
          },
        };
      }
      case 'histogram':
        gridValueOf(ctx, m);
        return { name, sql: undefined, histogram: m };
    }
  });
}

/** Stage 1, `src`: the FROM clause's rows that pass WHERE, a non-NULL unit and the public domains. */
function sourceStage(ctx: CompileContext): DomainParams {
  const { plan, params, keyNames } = ctx;
  const from = fromSql(plan.tables, plan.joins, '\n    ');
  const unit = columnSql(plan.unit);
  const keyExprs = plan.keys.map((k) => keySql(k.expression, params));
  const where = [`${unit} IS NOT NULL`];
  if (plan.filter !== undefined) where.push(filterSql(plan.filter, params));
  const domains = new DomainParams(plan.keys, params);
  plan.keys.forEach((_, i) => {
    const f = domains.filter(i, keyExprs[i]!);
    if (f !== undefined) where.push(f);
  });
  const srcSelect = [
    `${unit} AS ${ident('u')}`,
    ...keyExprs.map((e, i) => `${e} AS ${keyNames[i]}`),
    ...ctx.io.raw.map((r) => `${r.sql} AS ${ident(r.name)}`),
  ];
  ctx.ctes.push(`${ident('src')} AS (\n  SELECT ${srcSelect.join(',\n         ')}\n  FROM ${from}\n  WHERE ${where.join('\n    AND ')}\n)`);
  return domains;
}

/**
 * Stage 2 for queries that only count rows and units: the rule of `rowBoundingStage` on
 * (person, key) pairs — keys in the person's hash order, the first k keys, rows up to m — a pair
 * keeps n = min(c, m − rows of the person's earlier keys).
 */
function pairBoundingStage(ctx: CompileContext): void {
  const { plan, params, keyNames, ctes } = ctx;
  const u = ident('u');
  const c = ident('c');
  const n = ident('n');
  ctes.push(`${ident('pairs')} AS (\n  SELECT ${[u, ...keyNames, `count(*) AS ${c}`].join(', ')}\n  FROM ${ident('src')}\n  GROUP BY ${[u, ...keyNames].join(', ')}\n)`);
  const m = params.add(BigInt(plan.bounding.maxRowsPerUnit), 'int8');
  if (!ctx.grouped) {
    ctes.push(`${ident('rows')} AS (\n  SELECT LEAST(${c}, ${m}) AS ${n}, true AS ${ident('first')}\n  FROM ${ident('pairs')}\n)`);
    return;
  }
  const w = ident('w');
  const hk = hashChain(unitHash(u), plan.keys.map((k, i) => ({ sql: keyNames[i]!, kind: keyHashKind(k) })));
  ctes.push(
    `${ident('bounded')} AS (\n  SELECT ${[...keyNames, `LEAST(${c}, ${m} - (sum(${c}) OVER ${w} - ${c})) AS ${n}`, `row_number() OVER ${w} AS ${ident('kr')}`].join(',\n         ')}\n` +
      `  FROM ${ident('pairs')}\n  WINDOW ${w} AS (PARTITION BY ${u} ORDER BY ${[hk, ...keyNames].join(', ')} ROWS UNBOUNDED PRECEDING)\n)`,
  );
  const k = params.add(BigInt(plan.bounding.maxGroupsPerUnit), 'int8');
  ctes.push(`${ident('rows')} AS (\n  SELECT ${[...keyNames, n, `true AS ${ident('first')}`].join(', ')}\n  FROM ${ident('bounded')}\n  WHERE ${ident('kr')} <= ${k} AND ${n} > 0\n)`);
}

/** Stage 2, `bounded` + `rows`: each person's rows in their hash order, the first k keys, m rows. */
function rowBoundingStage(ctx: CompileContext, rowsSelect: readonly string[], fence: string): void {
  const { plan, params, keyNames, grouped, needFirst } = ctx;
  const rawList = ctx.io.raw;
  const rawNames = rawList.map((r) => ident(r.name));
  const carried = [...keyNames, ...rawNames];
  const seed = unitHash(ident('u'));
  const hashes: string[] = [];
  const order: string[] = [ident('u')];
  if (grouped) {
    hashes.push(`${hashChain(seed, plan.keys.map((k, i) => ({ sql: keyNames[i]!, kind: keyHashKind(k) })))} AS ${ident('hk')}`);
    order.push(ident('hk'), ...keyNames);
  }
  if (rawNames.length > 0) {
    hashes.push(`${hashChain(seed, rawList.map((r) => ({ sql: ident(r.name), kind: r.flag ? ('bool' as const) : ('numeric' as const) })))} AS ${ident('hr')}`);
    order.push(ident('hr'), ...rawNames);
  }
  // The window's own ORDER BY holds every tie-breaker (hash, keys, then the row hash and raw
  // values), so which rows a person keeps follows from SQL semantics, never from a subquery's
  // order or the plan. Rows tied on all of them are identical in everything the query reads.
  // Keys are ranked in a window ordered by (hash, keys) only — a prefix of the row order, so
  // PostgreSQL computes both windows from one sort.
  const w = ident('w');
  const wk = ident('wk');
  const rowOrder = order.slice(1);
  const ranks = [
    ...(grouped ? [`dense_rank() OVER ${wk} AS ${ident('kr')}`] : []),
    `row_number() OVER ${w} AS ${ident('rn')}`,
    ...(!needFirst ? [] : grouped ? [`(rank() OVER ${wk} = row_number() OVER ${w}) AS ${ident('first')}`] : [`(row_number() OVER ${w} = 1) AS ${ident('first')}`]),
  ];
  const windows = [
    ...(grouped ? [`${wk} AS (PARTITION BY ${ident('u')} ORDER BY ${[ident('hk'), ...keyNames].join(', ')})`] : []),
    `${w} AS (PARTITION BY ${ident('u')}${rowOrder.length > 0 ? ` ORDER BY ${rowOrder.join(', ')}` : ''})`,
  ];
  const inner = [ident('u'), ...carried, ...hashes];
  ctx.ctes.push(
    `${ident('bounded')} AS (\n  SELECT ${[...carried, ...ranks].join(',\n         ')}\n` +
      `  FROM (SELECT ${inner.join(', ')}\n        FROM ${ident('src')}) AS ${ident('h')}\n` +
      `  WINDOW ${windows.join(',\n         ')}\n)`,
  );
  const keep = grouped ? [`${ident('kr')} <= ${params.add(BigInt(plan.bounding.maxGroupsPerUnit), 'int8')}`] : [];
  keep.push(`${ident('rn')} <= ${params.add(BigInt(plan.bounding.maxRowsPerUnit), 'int8')}`);
  const boundedRows = `SELECT ${[...rowsSelect, ...(needFirst ? [ident('first')] : [])].join(',\n         ')}\n  FROM ${ident('bounded')}\n  WHERE ${keep.join(' AND ')}${fence}`;
  if (!ctx.keyed) {
    ctx.ctes.push(`${ident('rows')} AS (\n  ${boundedRows}\n)`);
    return;
  }
  // Both branches are gated by the same one-time condition: PostgreSQL runs only one of them.
  ctx.ctes.push(keyedGuard(plan, params));
  const ok = `(SELECT ${ident('ok')} FROM ${ident('keyed')})`;
  const direct = `SELECT ${[...rowsSelect, `true AS ${ident('first')}`].join(',\n         ')}\n  FROM ${ident('src')}\n  WHERE ${ok}${fence}`;
  ctx.ctes.push(`${ident('rows')} AS (\n  (${direct})\n  UNION ALL\n  (${boundedRows.replace('\n  WHERE ', `\n  WHERE NOT ${ok} AND `)})\n)`);
}

/** Stages 2–3, bounding and `rows`: the kept rows with every bounded value clamped onto its grid. */
function boundingStages(ctx: CompileContext): void {
  const gridSelect = ctx.grid.map((x) => `${x.sql()} AS ${ident(x.name)}`);
  // `rows` keeps the keys, the COUNT(col) flags and the grid values; raw values end here.
  // PostgreSQL would inline `rows` into `agg` and evaluate a grid value once per aggregate using it
  // (SUM, AVG's sum and count, …); OFFSET 0 keeps `rows` a subquery, so each is computed once per row.
  const fence = ctx.grid.length > 0 ? '\n  OFFSET 0' : '';
  const rowsSelect = [...ctx.keyNames, ...ctx.io.raw.filter((r) => r.flag).map((r) => ident(r.name)), ...gridSelect];
  if (ctx.countOnly) pairBoundingStage(ctx);
  else rowBoundingStage(ctx, rowsSelect, fence);
}

/** What `agg` (and the histogram stages after it) produce, in output order. */
interface Aggregated {
  /** Whether the result has a `units` column (private partition selection). */
  readonly units: boolean;
  readonly scalar: readonly Measure[];
  readonly valueCols: readonly string[];
  readonly groupBy: string;
}

/** Stage 4, `agg`: per group, exact integer counts and sums of grid values. */
function aggregateStage(ctx: CompileContext, measures: readonly Measure[]): Aggregated {
  const { keyNames } = ctx;
  const groupBy = ctx.grouped ? `\n  GROUP BY ${keyNames.join(', ')}` : '';
  const units = ctx.plan.partitions.kind === 'private';
  const scalar = measures.filter((m) => m.sql !== undefined);
  const aggSelect = [
    ...keyNames,
    ...(units ? [`count(*) FILTER (WHERE ${ident('first')}) AS ${ident('units')}`] : []),
    ...scalar.map((m) => `${m.sql!()} AS ${ident(m.name)}`),
  ];
  ctx.ctes.push(`${ident('agg')} AS (\n  SELECT ${aggSelect.join(',\n         ')}\n  FROM ${ident('rows')}${groupBy}\n)`);
  return { units, scalar, valueCols: [...(units ? ['units'] : []), ...measures.map((m) => m.name)], groupBy };
}

/**
 * Stage 4b, histograms: `h<i>` per quantile as text `bin:count,…`, merged with `agg` into one row
 * per group. Returns the CTE the result reads (`agg` when there is no histogram).
 */
function histogramStages(ctx: CompileContext, hists: readonly Measure[], agg: Aggregated): string {
  if (hists.length === 0) return 'agg';
  const { params, keyNames, ctes } = ctx;
  for (const h of hists) {
    const m = h.histogram!;
    const spec = m.histogram!;
    const x = ident(gridValueOf(ctx, m));
    // (x − lo)·bins stays inside int8 for grids narrower than 2^52; wider ones divide in numeric.
    const wide = histogramWidth(spec) * BigInt(spec.bins) >= 2n ** 62n;
    const lo = params.add(spec.lower, 'int8');
    const bins = params.add(BigInt(spec.bins), 'int8');
    const width = params.add(histogramWidth(spec), 'int8');
    const bin = wide ? `div((${x} - ${lo})::numeric * ${bins}, ${width})::int8` : `(${x} - ${lo}) * ${bins} / ${width}`;
    ctes.push(
      `${ident(`h${m.index}`)} AS (\n  SELECT ${[...keyNames, `string_agg(${ident('b')}::text || ':' || ${ident('n')}::text, ',' ORDER BY ${ident('b')}) AS ${ident(h.name)}`].join(', ')}\n` +
        `  FROM (SELECT ${[...keyNames, `${bin} AS ${ident('b')}`, `count(*) AS ${ident('n')}`].join(', ')}\n        FROM ${ident('rows')}\n        WHERE ${x} IS NOT NULL\n        GROUP BY ${[...keyNames, ident('b')].join(', ')}) AS ${ident('c')}${agg.groupBy}\n)`,
    );
  }
  const scalarNames = new Set(agg.scalar.map((m) => m.name));
  if (agg.units) scalarNames.add('units');
  const branch = (source: string, present: (c: string) => boolean, cast: (c: string) => string): string =>
    `  SELECT ${[...keyNames, ...agg.valueCols.map((c) => (present(c) ? ident(c) : `${cast(c)} AS ${ident(c)}`))].join(', ')} FROM ${ident(source)}`;
  const branches = [
    branch('agg', (c) => scalarNames.has(c), () => 'NULL::text'),
    ...hists.map((h) => branch(`h${h.histogram!.index}`, (c) => c === h.name, () => 'NULL')),
  ];
  ctes.push(`${ident('parts')} AS (\n${branches.join('\n  UNION ALL\n')}\n)`);
  ctes.push(
    `${ident('merged')} AS (\n  SELECT ${[...keyNames, ...agg.valueCols.map((c) => `max(${ident(c)}) AS ${ident(c)}`)].join(',\n         ')}\n  FROM ${ident('parts')}${agg.groupBy}\n)`,
  );
  return 'merged';
}

/** Stage 5, public domains: every declared key value has a row (zeros when empty), in domain order. */
function publicDomainResult(ctx: CompileContext, measures: readonly Measure[], agg: Aggregated, domains: DomainParams, finalName: string): string {
  const { keyNames } = ctx;
  const f = ident('f');
  const zero = (c: string): string => {
    const m = measures.find((x) => x.name === c);
    return m?.histogram !== undefined ? `COALESCE(${f}.${ident(c)}, '')` : `COALESCE(${f}.${ident(c)}, 0)`;
  };
  const dom = ctx.plan.keys.map((_, i) => {
    const d = ident(`d${i}`);
    const rows = domains.all(i).map((ph, j) => `(${j + 1}, ${ph})`).join(', ');
    return { d, sql: `(VALUES ${rows}) AS ${d}(${ident('o')}, ${keyNames[i]})` };
  });
  return (
    `SELECT ${[...ctx.plan.keys.map((_, i) => `${dom[i]!.d}.${keyNames[i]}`), ...agg.valueCols.map(zero)].join(',\n       ')}\n` +
    `FROM ${dom.map((x) => x.sql).join('\n  CROSS JOIN ')}\n` +
    `  LEFT JOIN ${ident(finalName)} AS ${f} ON ${ctx.plan.keys.map((_, i) => `${f}.${keyNames[i]} = ${dom[i]!.d}.${keyNames[i]}`).join(' AND ')}\n` +
    `ORDER BY ${dom.map((x) => `${x.d}.${ident('o')}`).join(', ')}`
  );
}

export function compile(plan: QueryPlan): CompiledQuery {
  const ctx = contextOf(plan);
  const measures = measuresOf(ctx);
  const domains = sourceStage(ctx);
  boundingStages(ctx);
  const agg = aggregateStage(ctx, measures);
  const hists = measures.filter((m) => m.histogram !== undefined);
  const finalName = histogramStages(ctx, hists, agg);

  const outputs: OutputColumn[] = [
    ...plan.keys.map((k): OutputColumn => ({ kind: 'key', key: k.index })),
    ...(agg.units ? [{ kind: 'units' } as const] : []),
    ...plan.measurements.map((m): OutputColumn => ({ kind: 'measure', aggregate: m.aggregate, measure: m.measure, measurement: m.index })),
  ];
  let body: string;
  if (plan.partitions.kind === 'public') {
    body = publicDomainResult(ctx, measures, agg, domains, finalName);
  } else {
    const hnames = new Set(hists.map((h) => h.name));
    body = `SELECT ${[...ctx.keyNames, ...agg.valueCols.map((c) => (hnames.has(c) ? `COALESCE(${ident(c)}, '') AS ${ident(c)}` : ident(c)))].join(', ')}\nFROM ${ident(finalName)}`;
  }

  return Object.freeze({
    sql: `WITH ${ctx.ctes.join(',\n')}\n${body}`,
    params: ctx.params.values,
    outputs: Object.freeze(outputs),
  });
}
