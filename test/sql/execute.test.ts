import { expect } from 'chai';
import { decodeResult, histogramCounts } from '../../src/queries/decode-result.ts';
import { compile } from '../../src/sql/index.ts';
import { findKeyedTables } from '../../src/warehouse/keyed-tables.ts';
import type { QueryPlan } from '../../src/sql/plan/index.ts';
import type { Warehouse } from '../../src/warehouse/adapter.ts';
import { reference, type ReferenceGroup, type ReferenceSpec } from './reference.ts';
import { clinic, FIXTURES, plan } from './support.ts';

interface Case {
  readonly name: string;
  readonly sql: string;
  readonly ref: ReferenceSpec;
  readonly keyed?: boolean;
}

const visits = (over: Partial<ReferenceSpec> = {}): ReferenceSpec => ({
  from: 'visits',
  unit: 'visits.patient_id',
  keys: [],
  raw: [],
  columns: { cost: 'visits.cost', diagnosis: 'visits.diagnosis', patient_id: 'visits.patient_id' },
  ...over,
});

/** Date keys exist for years 1–294275 only (docs/sql.md); the compiled query guards the same way. */
const dated = (expr: string, col = 'visits.visited_on'): string => `CASE WHEN ${col} >= '0001-01-01' AND ${col} < '294276-01-01' THEN ${expr} END`;

const CASES: readonly Case[] = [
  {
    name: 'COUNT(*) without GROUP BY',
    sql: 'SELECT COUNT(*) FROM visits',
    ref: visits(),
  },
  {
    name: 'COUNT, SUM and AVG by a public key (NULL and out-of-domain keys dropped)',
    sql: 'SELECT region, COUNT(*) AS n, SUM(cost), AVG(cost) FROM visits GROUP BY region',
    ref: visits({ keys: [['visits.region', 'text']], raw: [['visits.cost', 'numeric']] }),
  },
  {
    name: 'COUNT(col), COUNT(DISTINCT unit), VARIANCE and STDDEV_POP without GROUP BY',
    sql: 'SELECT COUNT(*), COUNT(diagnosis), COUNT(DISTINCT patient_id), VARIANCE(cost), STDDEV_POP(cost) FROM visits',
    ref: visits({ raw: [['(visits.diagnosis IS NOT NULL)', 'bool'], ['visits.cost', 'numeric']] }),
  },
  {
    name: 'a private key with a filter and an average',
    sql: "SELECT diagnosis, COUNT(*), AVG(cost) FROM visits WHERE cost > 100 AND region <> 'west' GROUP BY diagnosis",
    ref: visits({ where: "visits.cost > 100 AND visits.region <> 'west'", keys: [['visits.diagnosis', 'text']], raw: [['visits.cost', 'numeric']] }),
  },
  {
    name: 'date_trunc and extract keys with domains derived from the bounds',
    sql: "SELECT date_trunc('year', visited_on) AS y, extract(month FROM visited_on) AS m, COUNT(*) FROM visits GROUP BY 1, 2",
    ref: visits({
      keys: [
        [dated("date_trunc('year', visits.visited_on::timestamp)::date"), 'record'],
        [dated('extract(month FROM visits.visited_on)::int8'), 'int8'],
      ],
    }),
  },
  {
    name: 'people per year in a date range',
    sql: "SELECT extract(year FROM visited_on), COUNT(DISTINCT patient_id) FROM visits WHERE visited_on BETWEEN '2021-01-01' AND '2023-12-31' GROUP BY 1",
    ref: visits({
      where: "visits.visited_on BETWEEN '2021-01-01' AND '2023-12-31'",
      keys: [[dated('extract(year FROM visits.visited_on)::int8'), 'int8']],
    }),
  },
  {
    name: 'one row per person (maxRowsPerUnit 1): AVG and a quantile of an integer column',
    sql: 'SELECT sex, COUNT(*), AVG(birth_year), PERCENTILE_CONT(0.25) WITHIN GROUP (ORDER BY birth_year) FROM patients GROUP BY sex',
    ref: { from: 'patients', unit: 'patients.patient_id', keys: [['patients.sex', 'text']], raw: [['patients.birth_year', 'numeric']], columns: { birth_year: 'patients.birth_year' } },
  },
  {
    name: 'the same on a table the catalog shows keyed by its unit (no bounding step)',
    sql: 'SELECT sex, COUNT(*), AVG(birth_year), PERCENTILE_CONT(0.25) WITHIN GROUP (ORDER BY birth_year) FROM patients GROUP BY sex',
    ref: { from: 'patients', unit: 'patients.patient_id', keys: [['patients.sex', 'text']], raw: [['patients.birth_year', 'numeric']], columns: { birth_year: 'patients.birth_year' } },
    keyed: true,
  },
  {
    name: 'a declared join, bounded on the joined rows',
    sql: 'SELECT p.sex, COUNT(*), SUM(v.cost) FROM visits v JOIN patients p ON v.patient_id = p.patient_id WHERE p.birth_year >= 1960 GROUP BY p.sex',
    ref: {
      from: 'visits v JOIN patients p ON v.patient_id = p.patient_id',
      unit: 'v.patient_id',
      where: 'p.birth_year >= 1960',
      keys: [['p.sex', 'text']],
      raw: [['v.cost', 'numeric']],
      columns: { cost: 'v.cost' },
    },
  },
  {
    name: 'LIKE, OR and IS NULL filters; HAVING/ORDER BY/LIMIT do not change the measurements',
    sql: "SELECT region, COUNT(*) FROM visits WHERE diagnosis LIKE 'J%' OR cost IS NULL GROUP BY region HAVING COUNT(*) > 3 ORDER BY 2 DESC LIMIT 2",
    ref: visits({ where: "visits.diagnosis LIKE 'J%' OR visits.cost IS NULL", keys: [['visits.region', 'text']] }),
  },
  {
    name: 'FILTER (WHERE …) on COUNT(*), COUNT(col), SUM, AVG and a quantile: bounding over all rows, each aggregate reads its own',
    sql: "SELECT region, COUNT(*) FILTER (WHERE cost > 100), COUNT(diagnosis) FILTER (WHERE diagnosis LIKE 'J%' OR cost IS NULL), SUM(cost) FILTER (WHERE cost > 100), AVG(cost), AVG(cost) FILTER (WHERE cost > 100), MEDIAN(cost) FILTER (WHERE diagnosis <> 'J45') FROM visits GROUP BY region",
    ref: visits({
      keys: [['visits.region', 'text']],
      raw: [
        ['COALESCE((visits.cost > 100), false)', 'bool'],
        ['(visits.diagnosis IS NOT NULL)', 'bool'],
        ["COALESCE((visits.diagnosis LIKE 'J%' OR visits.cost IS NULL), false)", 'bool'],
        ['visits.cost', 'numeric'],
        ["COALESCE((visits.diagnosis <> 'J45'), false)", 'bool'],
      ],
      filters: { 0: 'visits.cost > 100', 1: "visits.diagnosis LIKE 'J%' OR visits.cost IS NULL", 2: 'visits.cost > 100', 4: 'visits.cost > 100', 5: "visits.diagnosis <> 'J45'" },
    }),
  },
  {
    name: 'FILTER on a private key (NULL is a key)',
    sql: "SELECT diagnosis, COUNT(*), COUNT(*) FILTER (WHERE region IN ('north', 'east')) FROM visits GROUP BY diagnosis",
    ref: visits({ keys: [['visits.diagnosis', 'text']], raw: [["COALESCE((visits.region IN ('north', 'east')), false)", 'bool']], filters: { 1: "visits.region IN ('north', 'east')" } }),
  },
  {
    name: 'FILTER without GROUP BY, two filters on one column',
    sql: "SELECT COUNT(*) FILTER (WHERE cost > 100), SUM(cost) FILTER (WHERE region = 'north'), SUM(cost) FILTER (WHERE NOT region = 'north') FROM visits",
    ref: visits({
      raw: [
        ['COALESCE((visits.cost > 100), false)', 'bool'],
        ["COALESCE((visits.region = 'north'), false)", 'bool'],
        ['visits.cost', 'numeric'],
        ["COALESCE(NOT (visits.region = 'north'), false)", 'bool'],
      ],
      filters: { 0: 'visits.cost > 100', 1: "visits.region = 'north'", 2: "NOT (visits.region = 'north')" },
    }),
  },
  {
    name: 'a CASE bucket key: a public domain of its listed results, in the order written, no partition selection',
    sql: "SELECT CASE WHEN cost < 100 THEN 'low' WHEN cost < 1000 THEN 'mid' ELSE 'high' END AS band, COUNT(*), SUM(cost) FROM visits GROUP BY 1",
    ref: visits({
      keys: [["CASE WHEN visits.cost < 100 THEN 'low' WHEN visits.cost < 1000 THEN 'mid' ELSE 'high' END", 'text']],
      raw: [['visits.cost', 'numeric']],
    }),
  },
  {
    name: 'an integer CASE bucket without ELSE (unmatched rows dropped) next to a public key, with a FILTER',
    sql: "SELECT region, CASE WHEN diagnosis LIKE 'J%' OR diagnosis = 'E11' THEN 1 WHEN cost BETWEEN 0 AND 50 THEN 2 END, COUNT(*) FILTER (WHERE cost > 10), AVG(cost) FROM visits GROUP BY region, 2",
    ref: visits({
      keys: [
        ['visits.region', 'text'],
        ["CASE WHEN visits.diagnosis LIKE 'J%' OR visits.diagnosis = 'E11' THEN 1 WHEN visits.cost BETWEEN 0 AND 50 THEN 2 END::int8", 'int8'],
      ],
      raw: [['COALESCE((visits.cost > 10), false)', 'bool'], ['visits.cost', 'numeric']],
      filters: { 0: 'visits.cost > 10' },
    }),
  },
  {
    name: 'empty input without GROUP BY: exactly one row of zeros',
    sql: "SELECT COUNT(*), SUM(cost), AVG(cost), MEDIAN(cost), COUNT(DISTINCT patient_id) FROM visits WHERE region = 'nowhere'",
    ref: visits({ where: "visits.region = 'nowhere'", raw: [['visits.cost', 'numeric']] }),
  },
  {
    name: 'empty input with a public key: every domain value, as zeros',
    sql: 'SELECT region, COUNT(*), SUM(cost), MEDIAN(cost) FROM visits WHERE cost > 1000000 GROUP BY region',
    ref: visits({ where: 'visits.cost > 1000000', keys: [['visits.region', 'text']], raw: [['visits.cost', 'numeric']] }),
  },
];

const show = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

function normalize(plan: QueryPlan, groups: readonly { keys: readonly unknown[]; units: bigint | undefined; values: readonly (bigint | readonly bigint[])[] }[]): string[] {
  return groups
    .map((g) => show({ keys: g.keys.map((k) => (k === null ? null : String(k))), units: plan.partitions.kind === 'private' ? g.units : undefined, values: g.values }))
    .sort();
}

async function check(c: Case, warehouse: Warehouse): Promise<void> {
  const keyedTables = c.keyed === true ? await findKeyedTables(warehouse, clinic) : undefined;
  const p = await plan(c.sql, { keyedTables });
  if (c.keyed === true) expect(p.bounding.needed).to.equal(false);
  const compiled = compile(p);
  const result = await warehouse.read(compiled.sql, compiled.params);
  expect(result.fields).to.have.length(compiled.outputs.length);
  // Histograms are decoded on demand (only released groups build their bins): decode them all here.
  const got = decodeResult(p, compiled, result).map((g) => ({
    ...g,
    values: g.values.map((v) => (typeof v === 'bigint' ? v : histogramCounts(v))),
  }));
  const want: ReferenceGroup[] = await reference(p, clinic, c.ref, warehouse);
  if (p.keys.length === 0) expect(got).to.have.length(1);
  if (p.partitions.kind === 'public') {
    // Domain order, every value present.
    expect(got.map((g) => g.keys.map(String).join('|'))).to.deep.equal(want.map((g) => g.keys.join('|')));
  }
  expect(normalize(p, got)).to.deep.equal(normalize(p, want.map((w) => ({ ...w, units: w.units }))));
}

for (const fixture of FIXTURES) {
  describe(`compiled queries on ${fixture.name === 'pg' ? 'PostgreSQL 15' : 'PGlite'} match an independent computation`, function () {
    this.timeout(120_000);
    let warehouse: Warehouse;
    before(async () => {
      warehouse = (await fixture.get()).warehouse;
    });

    for (const c of CASES) {
      it(c.name, () => check(c, warehouse));
    }

    it('bounds for real on this fixture: the bounded count is below the raw count (positive control)', async () => {
      const p = await plan('SELECT COUNT(*) FROM visits');
      const compiled = compile(p);
      const [bounded] = decodeResult(p, compiled, await warehouse.read(compiled.sql, compiled.params));
      const raw = await warehouse.read('SELECT count(*) FROM visits WHERE patient_id IS NOT NULL', []);
      expect(bounded!.values[0]).to.be.a('bigint');
      expect((bounded!.values[0] as bigint) < (raw.rows[0]![0] as bigint)).to.equal(true);
    });

    it('finds the tables keyed by their unit in the catalog (patients has a primary key, visits none)', async () => {
      const keyed = await findKeyedTables(warehouse, clinic);
      expect([...keyed]).to.deep.equal(['patients']);
    });

    it('keeps at most maxRowsPerUnit rows and maxGroupsPerUnit keys of a heavy user, the same ones every time', async () => {
      const sql = "SELECT diagnosis, COUNT(*) FROM visits WHERE diagnosis LIKE 'heavy%' GROUP BY diagnosis";
      const p = await plan(sql);
      const compiled = compile(p);
      const runs = await Promise.all([1, 2].map(() => warehouse.read(compiled.sql, compiled.params)));
      expect(show(runs[0]!.rows)).to.equal(show(runs[1]!.rows));
      const groups = decodeResult(p, compiled, runs[0]!);
      // Only the heavy user has heavy* diagnoses: 300 visits over 30 keys (10 each). Rows are kept key by
      // key in the person's hash order, so 20 rows fill the first two keys.
      expect(groups).to.have.length(2);
      expect(groups.reduce((s, g) => s + (g.values[0] as bigint), 0n)).to.equal(20n);
      expect(groups.every((g) => g.units === 1n)).to.equal(true);
    });

    it('gives date keys beyond the timestamp range or infinite a NULL key instead of failing', async () => {
      const p = await plan("SELECT date_trunc('day', visited_on), COUNT(*) FROM visits WHERE diagnosis = 'X2' GROUP BY 1");
      const compiled = compile(p);
      const groups = decodeResult(p, compiled, await warehouse.read(compiled.sql, compiled.params));
      expect(groups.map((g) => show([...g.keys, g.values[0]])).sort()).to.deep.equal([show(['2019-06-01', 1n]), show([null, 2n])].sort());
    });

    it('skips NaN and NULL values and clamps values outside the bounds onto the grid', async () => {
      // Patient 900002: 10.005 and 4999.995 are stored as numeric(12,2) 10.01 and 5000.00 → grid 1001 and 500000.
      const p = await plan("SELECT SUM(cost), COUNT(cost), AVG(cost) FROM visits WHERE region = 'east' AND diagnosis = 'X2'");
      const compiled = compile(p);
      const [g] = decodeResult(p, compiled, await warehouse.read(compiled.sql, compiled.params));
      expect(g!.values).to.deep.equal([1001n + 500000n, 2n, 1001n - 250000n + (500000n - 250000n), 2n]);
      const q = await plan("SELECT SUM(cost), COUNT(cost), AVG(cost) FROM visits WHERE diagnosis = 'X1' OR diagnosis IS NULL");
      const cq = compile(q);
      const [h] = decodeResult(q, cq, await warehouse.read(cq.sql, cq.params));
      // 900001: NaN (absent from SUM/AVG, counted by COUNT(cost)), -50 → 0, 99999 → 500000, 10 → 1000; the NULL-unit row never counts.
      expect(h!.values[0]).to.equal(0n + 500000n + 1000n);
      expect(h!.values[1]).to.equal(4n);
      expect(h!.values[3]).to.equal(3n);
    });
  });
}
