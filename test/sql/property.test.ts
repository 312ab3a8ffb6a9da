import { expect } from 'chai';
import fc from 'fast-check';
import { DpqError } from '../../src/errors.ts';
import { decodeResult } from '../../src/queries/decode-result.ts';
import { compile, planQuery } from '../../src/sql/index.ts';
import { publicGroupCount } from '../../src/sql/plan/index.ts';
import type { Warehouse } from '../../src/warehouse/adapter.ts';
import { clinic, pgFixtureOnce } from './support.ts';

/**
 * Random queries from the allowed grammar over the demo policy all validate, compile and run on
 * real PostgreSQL; random mutations that step outside it are all refused at validation.
 */

type Source = 'visits' | 'patients' | 'join';

interface Query {
  readonly source: Source;
  readonly upper: boolean;
  readonly aggregates: readonly string[];
  readonly keys: readonly string[];
  readonly where: readonly string[];
  readonly whereOp: 'AND' | 'OR';
  readonly negate: boolean;
  readonly having: string | undefined;
  readonly orderBy: string | undefined;
  readonly limit: number | undefined;
}

const V = (c: string, s: Source): string => (s === 'join' ? `v.${c}` : c);
const P = (c: string, s: Source): string => (s === 'join' ? `p.${c}` : c);

const FROM: Readonly<Record<Source, readonly string[]>> = {
  visits: ['visits', 'public.visits', 'Visits', '"visits"'],
  patients: ['patients', 'public.patients'],
  join: ['visits v JOIN patients p ON v.patient_id = p.patient_id', 'visits AS v INNER JOIN patients AS p USING (patient_id)', 'patients p JOIN visits v ON v.patient_id = p.patient_id'],
};

/** An aggregate, sometimes with a FILTER (WHERE …) (not on COUNT(DISTINCT unit), which refuses it). */
function filteredAggregateArb(s: Source): fc.Arbitrary<string> {
  return fc.tuple(aggregateArb(s), fc.option(predicateArb(s), { nil: undefined })).map(([a, p]) => (p === undefined || a.startsWith('COUNT(DISTINCT') ? a : `${a} FILTER (WHERE ${p})`));
}

function aggregateArb(s: Source): fc.Arbitrary<string> {
  const bounded = [...(s === 'patients' ? [] : [V('cost', s)]), ...(s === 'visits' ? [] : [P('birth_year', s)])];
  const countable = [
    ...(s === 'patients' ? [] : ['cost', 'diagnosis', 'region', 'visited_on', 'patient_id'].map((c) => V(c, s))),
    ...(s === 'visits' ? [] : ['name', 'email', 'ssn', 'zip', 'birth_year', 'sex'].map((c) => P(c, s))),
  ];
  const unit = s === 'patients' ? 'patient_id' : V('patient_id', s);
  return fc.oneof(
    fc.constant('COUNT(*)'),
    fc.constantFrom(...countable).map((c) => `COUNT(${c})`),
    fc.constant(`COUNT(DISTINCT ${unit})`),
    fc.tuple(fc.constantFrom('SUM', 'AVG', 'VARIANCE', 'VAR_POP', 'VAR_SAMP', 'STDDEV', 'STDDEV_POP', 'STDDEV_SAMP', 'MEDIAN', 'sum', 'avg'), fc.constantFrom(...bounded)).map(([f, c]) => `${f}(${c})`),
    fc.tuple(fc.constantFrom('0', '0.1', '0.5', '0.99', '1'), fc.constantFrom(...bounded)).map(([p, c]) => `PERCENTILE_CONT(${p}) WITHIN GROUP (ORDER BY ${c})`),
  );
}

function keyArb(s: Source): fc.Arbitrary<string> {
  const plain = [...(s === 'patients' ? [] : ['region', 'diagnosis'].map((c) => V(c, s))), ...(s === 'visits' ? [] : ['sex', 'zip', 'birth_year'].map((c) => P(c, s)))];
  const bucket = fc
    .tuple(fc.array(predicateArb(s), { minLength: 1, maxLength: 3 }), fc.boolean(), fc.boolean())
    .map(([conds, text, otherwise]) => {
      const lit = (i: number): string => (text ? `'b${i}'` : String(i));
      return `CASE ${conds.map((c, i) => `WHEN ${c} THEN ${lit(i)}`).join(' ')}${otherwise ? ` ELSE ${lit(conds.length)}` : ''} END`;
    });
  if (s === 'patients') return fc.oneof(fc.constantFrom(...plain), bucket);
  return fc.oneof(
    fc.constantFrom(...plain),
    bucket,
    fc.constantFrom('day', 'week', 'month', 'quarter', 'year').map((u) => `date_trunc('${u}', ${V('visited_on', s)})`),
    fc.constantFrom('day', 'dow', 'isodow', 'doy', 'week', 'month', 'quarter', 'year', 'isoyear').map((f) => `extract(${f} FROM ${V('visited_on', s)})`),
  );
}

const dateArb = fc.date({ min: new Date('2019-06-01T00:00:00Z'), max: new Date('2027-06-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));

function predicateArb(s: Source): fc.Arbitrary<string> {
  const visits = [
    fc.integer({ min: -10, max: 6000 }).map((n) => `${V('cost', s)} > ${n}`),
    fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 3000 })).map(([a, b]) => `${V('cost', s)} BETWEEN ${a}.5 AND ${a + b}`),
    fc.subarray(['north', 'south', 'east', 'west', 'mars'], { minLength: 1 }).map((rs) => `${V('region', s)} IN (${rs.map((r) => `'${r}'`).join(', ')})`),
    fc.constantFrom('=', '<>', '<', '>=').map((op) => `${V('region', s)} ${op} 'south'`),
    fc.constantFrom("LIKE 'J%'", "NOT LIKE 'I1%'", "ILIKE 'e%'", "LIKE '%.9'").map((l) => `${V('diagnosis', s)} ${l}`),
    dateArb.map((d) => `${V('visited_on', s)} >= '${d}'`),
    dateArb.map((d) => `'${d}' > ${V('visited_on', s)}`),
    fc.constantFrom('IS NULL', 'IS NOT NULL').map((t) => `${V('cost', s)} ${t}`),
  ];
  const patients = [
    fc.integer({ min: 1890, max: 2030 }).map((n) => `${P('birth_year', s)} >= ${n}`),
    fc.subarray(['F', 'M', 'X', 'Q'], { minLength: 1 }).map((xs) => `${P('sex', s)} NOT IN (${xs.map((x) => `'${x}'`).join(', ')})`),
    fc.constantFrom("LIKE '94%'", "= '10012'").map((l) => `${P('zip', s)} ${l}`),
    fc.constant(`${P('name', s)} IS NOT NULL`),
  ];
  return fc.oneof(...(s === 'visits' ? visits : s === 'patients' ? patients : [...visits, ...patients]));
}

const queryArb: fc.Arbitrary<Query> = fc.constantFrom<Source>('visits', 'patients', 'join').chain((source) =>
  fc.record({
    source: fc.constant(source),
    upper: fc.boolean(),
    aggregates: fc.array(filteredAggregateArb(source), { minLength: 1, maxLength: 3 }),
    keys: fc.uniqueArray(keyArb(source), { maxLength: 2 }),
    where: fc.array(predicateArb(source), { maxLength: 3 }),
    whereOp: fc.constantFrom<'AND' | 'OR'>('AND', 'OR'),
    negate: fc.boolean(),
    having: fc.option(fc.integer({ min: 0, max: 50 }).map((n) => `COUNT(*) > ${n}`), { nil: undefined }),
    orderBy: fc.option(fc.constantFrom('1', '1 DESC', '1 ASC NULLS FIRST'), { nil: undefined }),
    limit: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
  }),
).filter((q) => {
  // Quantiles: at most MAX_QUANTILES, and per group only over few public groups (validate.ts).
  const quantiles = q.aggregates.filter((a) => /^(MEDIAN|PERCENTILE_CONT)/i.test(a)).length;
  return quantiles <= 2 && (quantiles === 0 || q.keys.length === 0);
});

function render(q: Query, change: Partial<Query> & { fromText?: string; prefix?: string; suffix?: string; extraSelect?: string } = {}): string {
  const x = { ...q, ...change };
  const k = (w: string): string => (x.upper ? w : w.toLowerCase());
  const select = [...x.keys, ...x.aggregates, ...(change.extraSelect === undefined ? [] : [change.extraSelect])];
  let sql = `${change.prefix ?? ''}${k('SELECT')} ${select.join(', ')} ${k('FROM')} ${change.fromText ?? FROM[x.source][0]}`;
  if (x.where.length > 0) {
    const cond = x.where.map((w) => `(${w})`).join(` ${k(x.whereOp)} `);
    sql += ` ${k('WHERE')} ${x.negate ? `${k('NOT')} (${cond})` : cond}`;
  }
  if (x.keys.length > 0) sql += ` ${k('GROUP BY')} ${x.keys.map((_, i) => i + 1).join(', ')}`;
  if (x.having !== undefined) sql += ` ${k('HAVING')} ${x.having}`;
  if (x.orderBy !== undefined) sql += ` ${k('ORDER BY')} ${x.orderBy}`;
  if (x.limit !== undefined) sql += ` ${k('LIMIT')} ${x.limit}`;
  return `${sql}${change.suffix ?? ''}`;
}

/** Ways to step outside the subset, each applicable to any generated query. */
const MUTATIONS: readonly ((q: Query) => string)[] = [
  (q) => render(q, { suffix: '; SELECT 1' }),
  (q) => render(q, { suffix: '; DROP TABLE visits' }),
  (q) => render(q, { prefix: 'WITH t AS (SELECT 1) ' }),
  (q) => render(q, { fromText: 'pg_catalog.pg_class' }),
  (q) => render(q, { fromText: `(SELECT * FROM ${FROM[q.source][0]}) AS s` }),
  (q) => render(q, { extraSelect: 'pg_sleep(0.1)' }),
  (q) => render(q, { extraSelect: 'COUNT(*) OVER ()' }),
  (q) => render(q, { extraSelect: "set_config('statement_timeout', '0', false)" }),
  (q) => render(q, { aggregates: q.aggregates.map((a) => a.replace(/\(([a-z_.]+)\)$/, '($1 * 2)').replace('COUNT(*)', 'SUM(1 / 0)')) , extraSelect: 'SUM(1 + 1)' }),
  (q) => render(q, { where: [...q.where, q.source === 'patients' ? 'birth_year::int > 1' : `${V('cost', q.source)}::int > 1`] }),
  (q) => render(q, { where: [...q.where, q.source === 'patients' ? "birth_year > 'abc'" : `${V('visited_on', q.source)} = '2024-02-30'`] }),
  (q) => render(q, { where: [...q.where, q.source === 'patients' ? 'birth_year > (SELECT 1)' : `${V('region', q.source)} IN (SELECT region FROM visits)`] }),
  (q) => render(q, { where: [...q.where, q.source === 'patients' ? 'birth_year > birth_year' : `${V('cost', q.source)} < ${V('cost', q.source)}`] }),
  (q) => render(q, { where: [...q.where, 'pg_sleep(1) IS NULL'] }),
  (q) => render(q, { keys: [...q.keys, q.source === 'join' ? 'v.patient_id' : 'patient_id'] }),
  (q) => render(q, { extraSelect: q.source === 'patients' ? 'COUNT(DISTINCT sex)' : `COUNT(${V('notes', q.source)})` }),
  (q) => render(q, { keys: [], aggregates: ['*'] }),
  (q) => `${render(q)} UNION ${render(q)}`,
  (q) => render(q, { prefix: '' }).replace(/^select/i, 'SELECT DISTINCT'),
  (q) => `${render(q, { orderBy: undefined, limit: undefined })} FOR UPDATE`,
  (q) => render(q, { fromText: q.source === 'join' ? 'visits v LEFT JOIN patients p USING (patient_id)' : `${FROM[q.source][0]}, patients` }),
  (q) => render(q, { keys: [...q.keys, q.source === 'patients' ? "CASE WHEN sex = 'F' THEN zip ELSE 'x' END" : `CASE WHEN ${V('cost', q.source)} > 1 THEN ${V('region', q.source)} END`] }),
  (q) => render(q, { keys: [...q.keys, q.source === 'patients' ? 'CASE WHEN sex = (SELECT 1) THEN 1 END' : `CASE WHEN ${V('cost', q.source)} * 2 > 1 THEN 1 END`] }),
  (q) => render(q, { extraSelect: q.source === 'patients' ? 'SUM(CASE WHEN birth_year > 1 THEN birth_year END)' : `COUNT(*) FILTER (WHERE ${V('region', q.source)} IN (SELECT region FROM visits))` }),
];

describe('property: the allowed grammar, end to end on PostgreSQL', function () {
  this.timeout(120_000);
  let warehouse: Warehouse;
  before(async () => {
    warehouse = (await pgFixtureOnce()).warehouse;
  });

  it('accepts, compiles and runs every generated query, returning exact integers per group', async () => {
    await fc.assert(
      fc.asyncProperty(queryArb, fc.nat(), async (q, pick) => {
        const sql = render(q, { fromText: FROM[q.source][pick % FROM[q.source].length] });
        const plan = await planQuery(sql, clinic, { delta: 1e-7 });
        const compiled = compile(plan);
        const result = await warehouse.read(compiled.sql, compiled.params);
        const groups = decodeResult(plan, compiled, result); // throws on a non-integer measure
        if (plan.keys.length === 0) expect(groups, sql).to.have.length(1);
        if (plan.partitions.kind === 'public') expect(groups, sql).to.have.length(publicGroupCount(plan.keys));
        // A released key comes from its public domain, never from the data alone.
        for (const g of groups) {
          plan.keys.forEach((k, i) => {
            if (k.domain.kind === 'public') expect(k.domain.values.map(String), sql).to.include(String(g.keys[i]));
          });
        }
        for (const g of groups) expect(g.values).to.have.length(plan.measurements.length);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses every mutation outside the subset, at validation', async () => {
    await fc.assert(
      fc.asyncProperty(queryArb, fc.integer({ min: 0, max: MUTATIONS.length - 1 }), async (q, m) => {
        const sql = MUTATIONS[m]!(q);
        const outcome = await planQuery(sql, clinic, { delta: 1e-7 }).then(
          () => 'accepted',
          (e: unknown) => e,
        );
        expect(outcome, `mutation ${m}: ${sql}`).to.be.instanceOf(DpqError);
        expect(['SQL_NOT_ALLOWED', 'SQL_SYNTAX']).to.include((outcome as DpqError).code);
        expect((outcome as DpqError).detailRecord.position).to.be.a('number');
      }),
      { numRuns: 300 },
    );
  });
});
