import { expect } from 'chai';
import fc from 'fast-check';
import { compile, type CompiledQuery } from '../../src/sql/index.ts';
import { binLowerEdge, binOf, histogramSpec } from '../../src/sql/plan/index.ts';
import { dataset, hospital, plan } from './support.ts';

const sqlOf = async (sql: string, options = {}, ds = undefined as Parameters<typeof plan>[2]): Promise<CompiledQuery> => compile(await plan(sql, options, ds));

/** Every `$n` is typed, numbered 1…params.length, and every parameter is used. */
function checkPlaceholders(c: CompiledQuery): void {
  const used = [...c.sql.matchAll(/\$(\d+)(::[a-z0-9]+)?/g)];
  for (const m of used) expect(m[2], `$${m[1]} has a type cast`).to.be.a('string');
  const numbers = new Set(used.map((m) => Number(m[1])));
  expect([...numbers].sort((a, b) => a - b)).to.deep.equal(c.params.map((_, i) => i + 1));
}

describe('compile: bounded, parametrized SQL', () => {
  it('COUNT(*) without GROUP BY: per-person row counts capped at maxRowsPerUnit, no sort', async () => {
    const c = await sqlOf('SELECT COUNT(*) FROM visits');
    expect(c.sql).to.equal(`WITH "src" AS (
  SELECT "t0"."patient_id" AS "u"
  FROM "public"."visits" AS "t0"
  WHERE "t0"."patient_id" IS NOT NULL
),
"pairs" AS (
  SELECT "u", count(*) AS "c"
  FROM "src"
  GROUP BY "u"
),
"rows" AS (
  SELECT LEAST("c", $1::int8) AS "n", true AS "first"
  FROM "pairs"
),
"agg" AS (
  SELECT COALESCE(sum("n"), 0)::int8 AS "m0"
  FROM "rows"
)
SELECT "m0"
FROM "agg"`);
    expect(c.params).to.deep.equal(['20']);
    expect(c.outputs).to.deep.equal([{ kind: 'measure', aggregate: 0, measure: 'count', measurement: 0 }]);
  });

  it('FILTER (WHERE …): the condition is a flag computed in src and carried through bounding (which ignores it); each aggregate reads the rows where it holds', async () => {
    const c = await sqlOf('SELECT COUNT(*) FILTER (WHERE cost > 100), SUM(cost) FILTER (WHERE cost > 100) FROM visits');
    expect(c.sql).to.equal(`WITH "src" AS (
  SELECT "t0"."patient_id" AS "u",
         COALESCE("t0"."cost" > $1::numeric, false) AS "r0",
         "t0"."cost" AS "r1"
  FROM "public"."visits" AS "t0"
  WHERE "t0"."patient_id" IS NOT NULL
),
"bounded" AS (
  SELECT "r0",
         "r1",
         row_number() OVER "w" AS "rn"
  FROM (SELECT "u", "r0", "r1", hash_numeric_extended(COALESCE("r1"::numeric, 0), hashint4extended(COALESCE("r0"::int4, 0), hashtextextended("u"::text, 0))) AS "hr"
        FROM "src") AS "h"
  WINDOW "w" AS (PARTITION BY "u" ORDER BY "hr", "r0", "r1")
),
"rows" AS (
  SELECT "r0",
         CASE WHEN "r0" THEN CASE WHEN "r1" IS NULL OR "r1" = 'NaN'::numeric THEN NULL ELSE round(LEAST(GREATEST("r1", $2::numeric), $3::numeric) * $4::numeric)::int8 END END AS "x0"
  FROM "bounded"
  WHERE "rn" <= $5::int8
  OFFSET 0
),
"agg" AS (
  SELECT count(*) FILTER (WHERE "r0") AS "m0",
         COALESCE(sum("x0"), 0) AS "m1"
  FROM "rows"
)
SELECT "m0", "m1"
FROM "agg"`);
    expect(c.params).to.deep.equal(['100','0','5000','100','20']);
    checkPlaceholders(c);
  });

  it('a CASE bucket key: conditions as in WHERE, results as parameters, its listed results as a public domain (no partition selection)', async () => {
    const p = await plan("SELECT CASE WHEN region = 'north' THEN true ELSE false END AS northern, COUNT(*) FROM visits GROUP BY northern", { delta: 0 });
    expect(p.partitions).to.deep.equal({ kind: 'public', groups: 2 });
    expect(p.keys[0]!.domain).to.deep.equal({ kind: 'public', source: 'derived', values: [true, false], contiguous: false });
    const c = compile(p);
    expect(c.sql).to.equal(`WITH "src" AS (
  SELECT "t0"."patient_id" AS "u",
         CASE WHEN "t0"."region" = $1::text THEN $2::boolean ELSE $3::boolean END AS "k0"
  FROM "public"."visits" AS "t0"
  WHERE "t0"."patient_id" IS NOT NULL
    AND CASE WHEN "t0"."region" = $1::text THEN $2::boolean ELSE $3::boolean END IN ($4::boolean, $5::boolean)
),
"pairs" AS (
  SELECT "u", "k0", count(*) AS "c"
  FROM "src"
  GROUP BY "u", "k0"
),
"bounded" AS (
  SELECT "k0",
         LEAST("c", $6::int8 - (sum("c") OVER "w" - "c")) AS "n",
         row_number() OVER "w" AS "kr"
  FROM "pairs"
  WINDOW "w" AS (PARTITION BY "u" ORDER BY hash_record_extended(ROW("k0"), hashtextextended("u"::text, 0)), "k0" ROWS UNBOUNDED PRECEDING)
),
"rows" AS (
  SELECT "k0", "n", true AS "first"
  FROM "bounded"
  WHERE "kr" <= $7::int8 AND "n" > 0
),
"agg" AS (
  SELECT "k0",
         COALESCE(sum("n"), 0)::int8 AS "m0"
  FROM "rows"
  GROUP BY "k0"
)
SELECT "d0"."k0",
       COALESCE("f"."m0", 0)
FROM (VALUES (1, $4::boolean), (2, $5::boolean)) AS "d0"("o", "k0")
  LEFT JOIN "agg" AS "f" ON "f"."k0" = "d0"."k0"
ORDER BY "d0"."o"`);
    expect(c.params).to.deep.equal(['north','true','false','true','false','20','4']);
    checkPlaceholders(c);
  });

  it('SUM and AVG by a public key: row-level bounding in a seeded hash order (every tie-breaker in the window’s own ORDER BY), clamping on the grid, the domain left-joined', async () => {
    const c = await sqlOf("SELECT region, SUM(cost), AVG(cost) FROM visits WHERE visited_on >= '2024-01-01' GROUP BY region");
    expect(c.sql).to.equal(`WITH "src" AS (
  SELECT "t0"."patient_id" AS "u",
         "t0"."region" AS "k0",
         "t0"."cost" AS "r0"
  FROM "public"."visits" AS "t0"
  WHERE "t0"."patient_id" IS NOT NULL
    AND "t0"."visited_on" >= $1::date
    AND "t0"."region" IN ($2::text, $3::text, $4::text, $5::text)
),
"bounded" AS (
  SELECT "k0",
         "r0",
         dense_rank() OVER "wk" AS "kr",
         row_number() OVER "w" AS "rn"
  FROM (SELECT "u", "k0", "r0", hashtextextended(COALESCE("k0"::text, ''), hashtextextended("u"::text, 0)) AS "hk", hash_numeric_extended(COALESCE("r0"::numeric, 0), hashtextextended("u"::text, 0)) AS "hr"
        FROM "src") AS "h"
  WINDOW "wk" AS (PARTITION BY "u" ORDER BY "hk", "k0"),
         "w" AS (PARTITION BY "u" ORDER BY "hk", "k0", "hr", "r0")
),
"rows" AS (
  SELECT "k0",
         CASE WHEN "r0" IS NULL OR "r0" = 'NaN'::numeric THEN NULL ELSE round(LEAST(GREATEST("r0", $6::numeric), $7::numeric) * $8::numeric)::int8 END AS "x0"
  FROM "bounded"
  WHERE "kr" <= $9::int8 AND "rn" <= $10::int8
  OFFSET 0
),
"agg" AS (
  SELECT "k0",
         COALESCE(sum("x0"), 0) AS "m0",
         COALESCE(sum("x0" - $11::int8), 0) AS "m1",
         count("x0") AS "m2"
  FROM "rows"
  GROUP BY "k0"
)
SELECT "d0"."k0",
       COALESCE("f"."m0", 0),
       COALESCE("f"."m1", 0),
       COALESCE("f"."m2", 0)
FROM (VALUES (1, $2::text), (2, $3::text), (3, $4::text), (4, $5::text)) AS "d0"("o", "k0")
  LEFT JOIN "agg" AS "f" ON "f"."k0" = "d0"."k0"
ORDER BY "d0"."o"`);
    expect(c.params).to.deep.equal(['2024-01-01', 'north', 'south', 'east', 'west', '0', '5000', '100', '4', '20', '250000']);
    expect(c.outputs.map((o) => (o.kind === 'measure' ? `${o.aggregate}:${o.measure}` : o.kind))).to.deep.equal(['key', '0:sum', '1:sum', '1:count']);
  });

  it('a table keyed by its unit is aggregated directly when the read’s own snapshot confirms it, else bounded', async () => {
    const c = await sqlOf('SELECT sex, AVG(birth_year) FROM patients WHERE birth_year > 1950 GROUP BY sex', { keyedTables: new Set(['patients']) });
    expect(c.sql).to.include(`"rows" AS (
  (SELECT "k0",
         CASE WHEN "r0" IS NULL THEN NULL ELSE LEAST(GREATEST("r0", $5::int8), $6::int8)::int8 END AS "x0",
         true AS "first"
  FROM "src"
  WHERE (SELECT "ok" FROM "keyed")
  OFFSET 0)
  UNION ALL
  (SELECT "k0",`);
    expect(c.sql).to.include('WHERE NOT (SELECT "ok" FROM "keyed") AND "kr" <= ');
    expect(c.sql).to.include('AND c.relkind IN (\'r\', \'m\') AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhparent = c.oid)');
    expect(c.params.slice(0, 4)).to.deep.equal(['1950', 'F', 'M', 'X']);
    expect(c.params).to.include.members(['public', 'patients', 'patient_id']);
  });

  it('a private key releases the distinct-unit count used for partition selection', async () => {
    const c = await sqlOf("SELECT diagnosis, COUNT(*) FROM visits WHERE region = 'north' GROUP BY diagnosis");
    expect(c.outputs).to.deep.equal([
      { kind: 'key', key: 0 },
      { kind: 'units' },
      { kind: 'measure', aggregate: 0, measure: 'count', measurement: 0 },
    ]);
    expect(c.sql).to.match(/SELECT "k0", "units", "m0"\nFROM "agg"$/);
  });

  it('variance sums squares of centred grid values; quantiles return a histogram merged per group', async () => {
    const c = await sqlOf('SELECT region, VARIANCE(cost), MEDIAN(cost) FROM visits GROUP BY region');
    expect(c.sql).to.include('COALESCE(sum(("x0" - $11::int8) * ("x0" - $11::int8)), 0) AS "m2"');
    expect(c.sql).to.include(`"h3" AS (
  SELECT "k0", string_agg("b"::text || ':' || "n"::text, ',' ORDER BY "b") AS "m3"
  FROM (SELECT "k0", ("x0" - $12::int8) * $13::int8 / $14::int8 AS "b", count(*) AS "n"
        FROM "rows"
        WHERE "x0" IS NOT NULL
        GROUP BY "k0", "b") AS "c"
  GROUP BY "k0"
)`);
    expect(c.params.slice(11)).to.deep.equal(['0', '1024', '500001']);
    expect(c.sql).to.include(`COALESCE("f"."m3", '')`);
  });

  it('date_trunc and extract keys take their unit as a parameter and never fail on infinite dates', async () => {
    const c = await sqlOf("SELECT date_trunc('month', visited_on), extract(dow FROM visited_on), COUNT(*) FROM visits GROUP BY 1, 2");
    const range = `"t0"."visited_on" >= '0001-01-01'::date AND "t0"."visited_on" < '294276-01-01'::date`;
    expect(c.sql).to.include(`CASE WHEN ${range} THEN date_trunc($1::text, "t0"."visited_on"::timestamp)::date END AS "k0"`);
    expect(c.sql).to.include(`CASE WHEN ${range} THEN pg_catalog.extract($2::text, "t0"."visited_on")::int8 END AS "k1"`);
    expect(c.params.slice(0, 2)).to.deep.equal(['month', 'dow']);
    // Contiguous derived domains filter by range.
    expect(c.sql).to.include(`CASE WHEN ${range} THEN date_trunc($1::text, "t0"."visited_on"::timestamp)::date END BETWEEN $3::date AND $4::date`);
  });

  it('joins the declared tables on their unit columns, under its own aliases', async () => {
    const c = await sqlOf('SELECT p.sex, COUNT(v.cost) FROM visits AS v JOIN patients AS p USING (patient_id) GROUP BY p.sex');
    expect(c.sql).to.include(`FROM "public"."visits" AS "t0"
    JOIN "public"."patients" AS "t1" ON "t1"."patient_id" = "t0"."patient_id"`);
    expect(c.sql).to.include(`("t0"."cost" IS NOT NULL) AS "r0"`);
    expect(c.sql).to.include('count(*) FILTER (WHERE "r0") AS "m0"');
  });

  it('integer granularity and fractional steps round on the grid', async () => {
    const c = await sqlOf('SELECT SUM(score), AVG(fee) FROM visits JOIN patients USING (pid)', {}, hospital);
    expect(c.sql).to.include('CASE WHEN "r0" IS NULL THEN NULL ELSE round(LEAST(GREATEST("r0", $1::numeric), $2::numeric) / $3::numeric)::int8 END AS "x0"');
    expect(c.params.slice(0, 3)).to.deep.equal(['-10', '10', '5']);
    expect(c.sql).to.include(`CASE WHEN "r1" IS NULL OR "r1" = 'NaN'::numeric THEN NULL ELSE round(LEAST(GREATEST("r1", $4::numeric), $5::numeric) * $6::numeric)::int8 END AS "x1"`);
    expect(c.params.slice(3, 6)).to.deep.equal(['-1.5', '2.5', '4']);
  });

  it('quotes every identifier, including reserved words and quotes', async () => {
    const odd = dataset({
      schema: 'order',
      budget: { analyst: { epsilon: 1 } },
      defaults: { epsilon: 0.5 },
      tables: { select: { unit: 'user', maxRowsPerUnit: 2, columns: { user: { type: 'id' }, from: { type: 'integer', bounds: [0, 9] } } } },
    });
    const c = await sqlOf('SELECT SUM("from") FROM "order"."select"', {}, odd);
    expect(c.sql).to.include('FROM "order"."select" AS "t0"');
    expect(c.sql).to.include('"t0"."user" IS NOT NULL');
    expect(c.sql).to.include('"t0"."from" AS "r0"');
  });

  it('never writes a literal into the SQL text: every value is a typed parameter', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes('\u0000') && /[^\s]/.test(s)),
        fc.integer({ min: 1_000_000, max: 2_000_000_000 }),
        async (text, n) => {
          const literal = `'${text.replaceAll("'", "''")}'`;
          const c = await sqlOf(`SELECT region, COUNT(*) FROM visits WHERE diagnosis = ${literal} AND cost > ${n} GROUP BY region`);
          expect(c.params).to.include(text);
          expect(c.params).to.include(String(n));
          expect(c.sql).to.not.include(String(n));
          if (text.length > 3) expect(c.sql).to.not.include(text);
          checkPlaceholders(c);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('numbers its placeholders densely, each with a type', async () => {
    for (const sql of [
      'SELECT COUNT(*) FROM visits',
      "SELECT region, extract(month FROM visited_on), COUNT(*), AVG(cost), MEDIAN(cost) FROM visits WHERE diagnosis IN ('a', 'b') GROUP BY 1, 2",
      'SELECT diagnosis, COUNT(DISTINCT patient_id), STDDEV(cost) FROM visits GROUP BY 1',
    ]) {
      checkPlaceholders(await sqlOf(sql));
    }
  });
});

describe('histogram bins', () => {
  it('cover the grid in equal-width bins, with edges consistent with binOf', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -10_000n, max: 10_000n }), fc.bigInt({ min: 0n, max: 5_000n }), (lower, span) => {
        const h = histogramSpec(lower, lower + span);
        expect(h.bins).to.equal(Number(span + 1n < 1024n ? span + 1n : 1024n));
        expect(binOf(h, lower)).to.equal(0);
        expect(binOf(h, lower + span)).to.equal(h.bins - 1);
        for (let i = 0; i < h.bins; i += Math.max(1, Math.floor(h.bins / 7))) {
          const edge = binLowerEdge(h, i);
          expect(binOf(h, edge)).to.equal(i);
          if (edge > lower) expect(binOf(h, edge - 1n)).to.equal(i - 1);
        }
        expect(binLowerEdge(h, h.bins)).to.equal(lower + span + 1n);
      }),
    );
  });
});
