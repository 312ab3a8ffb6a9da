/**
 * What contribution bounding costs: the compiled query (src/sql/compile.ts) against a careful
 * hand-written bounded query with the same semantics (≤ 20 rows and ≤ 4 keys per person, values
 * clamped and put on the 0.01 grid) and against the raw, unbounded aggregate, on 1,000,000 visits
 * with the demo's shape: ~110k patients, most with a few visits, one in ten with dozens; 85% of a
 * person's visits in their home region; 1% NULL costs and 0.5% far above the bound.
 *
 * And on a heavy-tailed table (`events`, 1,000,000 rows): ~60k people, most with fewer rows than
 * the bound of 10, a hundred with about 5,000 rows each over all five keys (so both the row bound
 * and the group bound of 3 bite). There the reference is the best hand-written row-bounded query
 * (printed), and raw `GROUP BY unit, key` is the floor of any per-person bounding.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadPolicy } from '../src/policy/load.ts';
import type { Dataset } from '../src/policy/schema.ts';
import { compile, planQuery } from '../src/sql/index.ts';
import { type Benchmark, type BenchRow, percentile, timeCalls } from './types.ts';

const DATABASE = 'dpq_bench_sql';
const RUNS = 11;

const SETUP = [
  'DROP TABLE IF EXISTS visits',
  'DROP TABLE IF EXISTS patients',
  `CREATE TABLE patients AS
     SELECT g::int8 AS patient_id,
            (ARRAY['north','south','east','west'])[1 + abs(hashint4(g)) % 4] AS home,
            CASE WHEN abs(hashint4(g + 1)) % 10 = 0 THEN 10 + abs(hashint4(g + 2)) % 70 ELSE 1 + abs(hashint4(g + 3)) % 9 END AS n
     FROM generate_series(1, 115000) AS g`,
  `CREATE TABLE visits AS
     SELECT p.patient_id,
            CASE WHEN abs(hashint4(p.patient_id::int4 * 131 + v)) % 100 < 85 THEN p.home
                 ELSE (ARRAY['north','south','east','west'])[1 + abs(hashint4(v * 7 + p.patient_id::int4)) % 4] END AS region,
            DATE '2020-01-01' + abs(hashint4(p.patient_id::int4 * 17 + v)) % 2373 AS visited_on,
            CASE WHEN abs(hashint4(p.patient_id::int4 * 29 + v)) % 1000 < 10 THEN NULL
                 WHEN abs(hashint4(p.patient_id::int4 * 29 + v)) % 1000 < 15 THEN (5000 + abs(hashint4(v)) % 20000)::numeric(12,2)
                 ELSE round((exp(4.6 + (abs(hashint4(p.patient_id::int4 * 31 + v)) % 1000) / 1000.0 * 2.2 - 1.1))::numeric, 2) END AS cost,
            (ARRAY['J06.9','I10','E11.9','M54.5','K21.9','F41.1','J45.909','N39.0','R51','L30.9','H10.9','B34.9','R10.9','M25.561','E78.5','G43.909','S93.401A','Z00.00','K59.00','J02.9'])[1 + abs(hashint4(p.patient_id::int4 * 37 + v)) % 20] AS diagnosis,
            'no change'::text AS notes
     FROM patients AS p, generate_series(1, p.n) AS v
     LIMIT 1000000`,
  'ANALYZE visits',
  'DROP TABLE IF EXISTS events',
  `CREATE TABLE events AS
     WITH people AS (
       SELECT g::int8 AS person_id,
              CASE WHEN g <= 100 THEN 5000 + abs(hashint4(g)) % 500 ELSE 1 + abs(hashint4(g + 7)) % 15 END AS n
       FROM generate_series(1, 60000) AS g)
     SELECT p.person_id * 100000 + v AS event_id,
            p.person_id,
            (ARRAY['a','b','c','d','e'])[1 + (p.person_id::int4 + abs(hashint4(p.person_id::int4 * 131 + v)) % CASE WHEN p.n > 100 THEN 5 ELSE 3 END) % 5] AS kind,
            CASE WHEN abs(hashint4(p.person_id::int4 * 29 + v)) % 100 = 0 THEN NULL
                 ELSE (abs(hashint4(p.person_id::int4 * 31 + v)) % 150000 / 100.0)::numeric(12,2) END AS amount
     FROM people AS p, generate_series(1, p.n) AS v
     LIMIT 1000000`,
  'ANALYZE events',
];

/** The heavy-tailed table's policy: ≤ 10 rows and ≤ 3 keys per person. */
const EVENTS_POLICY = `datasets:
  shop:
    schema: public
    budget:
      analyst: { epsilon: 10, delta: 1.0e-6 }
      total: { epsilon: 200, delta: 1.0e-5 }
      renew: never
    defaults: { epsilon: 0.5, delta: 1.0e-7, mechanism: laplace }
    tables:
      events:
        unit: person_id
        maxRowsPerUnit: 10
        maxGroupsPerUnit: 3
        columns:
          event_id: { type: id }
          person_id: { type: id }
          kind: { type: text, values: [a, b, c, d, e] }
          amount: { type: numeric, bounds: [0, 1000], granularity: 0.01 }
`;

export function eventsDataset(): Dataset {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpq-bench-shop-'));
  fs.writeFileSync(path.join(dir, 'shop.yaml'), EVENTS_POLICY);
  return loadPolicy(dir, {}).policy.datasets.shop!;
}

export interface Scenario {
  readonly name: string;
  /** The dataset of the DP query: the clinic demo unless said. */
  readonly dataset?: 'shop';
  readonly dpq: string;
  readonly handWritten: string;
  readonly raw: string;
}

/** Hand-written with the same rule, as a careful engineer would: one sort, type-specific hashes. */
export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'COUNT/SUM/AVG(cost) GROUP BY region (public keys, row-level bounding)',
    dpq: 'SELECT region, COUNT(*), SUM(cost), AVG(cost) FROM visits GROUP BY region',
    handWritten: `
      SELECT region, count(*), sum(c), sum(c - 250000), count(c)
      FROM (SELECT region,
                   CASE WHEN cost IS NULL OR cost = 'NaN' THEN NULL ELSE round(least(greatest(cost, 0), 5000) * 100)::int8 END AS c,
                   dense_rank() OVER w AS kr, row_number() OVER w AS rn
            FROM (SELECT patient_id, region, cost,
                         hashtextextended(region, hashint8extended(patient_id, 0)) AS hk,
                         hash_numeric_extended(cost, hashint8extended(patient_id, 0)) AS hr
                  FROM visits
                  WHERE patient_id IS NOT NULL AND region IN ('north', 'south', 'east', 'west')
                  ORDER BY patient_id, hk, region, hr, cost) AS s
            WINDOW w AS (PARTITION BY patient_id ORDER BY hk, region)) AS b
      WHERE kr <= 4 AND rn <= 20
      GROUP BY region`,
    raw: 'SELECT region, count(*), sum(cost), avg(cost) FROM visits GROUP BY region',
  },
  {
    name: 'COUNT(*) GROUP BY diagnosis (private keys, partition-selection counts)',
    dpq: 'SELECT diagnosis, COUNT(*) FROM visits GROUP BY diagnosis',
    handWritten: `
      SELECT diagnosis, sum(n)::int8, count(*)
      FROM (SELECT diagnosis, least(c, 20 - (sum(c) OVER w - c)) AS n, row_number() OVER w AS kr
            FROM (SELECT patient_id, diagnosis, count(*) AS c FROM visits WHERE patient_id IS NOT NULL GROUP BY 1, 2) AS p
            WINDOW w AS (PARTITION BY patient_id ORDER BY hashtextextended(diagnosis, hashint8extended(patient_id, 0)), diagnosis
                         ROWS UNBOUNDED PRECEDING)) AS b
      WHERE kr <= 4 AND n > 0
      GROUP BY diagnosis`,
    raw: 'SELECT diagnosis, count(*), count(DISTINCT patient_id) FROM visits GROUP BY diagnosis',
  },
  {
    name: "COUNT(*) WHERE cost > 100 AND visited_on >= '2023-01-01' (filtered count)",
    dpq: "SELECT COUNT(*) FROM visits WHERE cost > 100 AND visited_on >= '2023-01-01'",
    handWritten: `
      SELECT coalesce(sum(least(c, 20)), 0)::int8
      FROM (SELECT patient_id, count(*) AS c FROM visits
            WHERE patient_id IS NOT NULL AND cost > 100 AND visited_on >= '2023-01-01'
            GROUP BY patient_id) AS p`,
    raw: "SELECT count(*) FROM visits WHERE cost > 100 AND visited_on >= '2023-01-01'",
  },
  {
    name: 'AVG(cost) GROUP BY diagnosis (private keys, row-level bounding)',
    dpq: 'SELECT diagnosis, AVG(cost) FROM visits GROUP BY diagnosis',
    handWritten: `
      SELECT diagnosis, count(*) FILTER (WHERE first), sum(c - 250000), count(c)
      FROM (SELECT diagnosis,
                   CASE WHEN cost IS NULL OR cost = 'NaN' THEN NULL ELSE round(least(greatest(cost, 0), 5000) * 100)::int8 END AS c,
                   dense_rank() OVER w AS kr, row_number() OVER w AS rn, rank() OVER w = row_number() OVER w AS first
            FROM (SELECT patient_id, diagnosis, cost,
                         hashtextextended(diagnosis, hashint8extended(patient_id, 0)) AS hk,
                         hash_numeric_extended(cost, hashint8extended(patient_id, 0)) AS hr
                  FROM visits WHERE patient_id IS NOT NULL
                  ORDER BY patient_id, hk, diagnosis, hr, cost) AS s
            WINDOW w AS (PARTITION BY patient_id ORDER BY hk, diagnosis)) AS b
      WHERE kr <= 4 AND rn <= 20
      GROUP BY diagnosis`,
    raw: 'SELECT diagnosis, avg(cost), count(DISTINCT patient_id) FROM visits GROUP BY diagnosis',
  },
  {
    // The best hand-written row-bounded query: ≤ 3 keys per person by a per-person key hash
    // (dense_rank), ≤ 10 rows per person by event id within them (one sort for both windows),
    // amounts clamped to [0, 1000] and put on the 0.01 grid.
    name: 'heavy-tailed: COUNT/SUM(amount) GROUP BY kind (≤ 10 rows, ≤ 3 keys per person)',
    dataset: 'shop',
    dpq: 'SELECT kind, COUNT(*), SUM(amount) FROM events GROUP BY kind',
    handWritten: `
      SELECT kind, count(*), coalesce(sum(a), 0)
      FROM (SELECT kind,
                   CASE WHEN amount IS NULL OR amount = 'NaN' THEN NULL ELSE round(least(greatest(amount, 0), 1000) * 100)::int8 END AS a,
                   dense_rank() OVER (PARTITION BY person_id ORDER BY hk, kind) AS kr,
                   row_number() OVER (PARTITION BY person_id ORDER BY hk, kind, event_id) AS rn
            FROM (SELECT person_id, kind, amount, event_id, hashtextextended(kind, person_id) AS hk
                  FROM events
                  WHERE person_id IS NOT NULL AND kind IN ('a', 'b', 'c', 'd', 'e')) AS s) AS b
      WHERE kr <= 3 AND rn <= 10
      GROUP BY kind`,
    raw: `
      SELECT kind, sum(n), sum(s)
      FROM (SELECT person_id, kind, count(*) AS n, sum(amount) AS s FROM events GROUP BY person_id, kind) AS p
      GROUP BY kind`,
  },
];

const bench: Benchmark = async (ctx) => {
  const admin = new pg.Client({ connectionString: ctx.cluster.url });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  const client = new pg.Client({ connectionString: ctx.cluster.urlFor(DATABASE) });
  await client.connect();
  const rows: BenchRow[] = [];
  try {
    ctx.log('generating 1,000,000 visits');
    for (const stmt of SETUP) await client.query(stmt);
    const { rows: count } = await client.query<{ n: string; people: string }>('SELECT count(*) AS n, count(DISTINCT patient_id) AS people FROM visits');
    ctx.log(`${count[0]!.n} visits of ${count[0]!.people} patients`);
    const datasets = { clinic: loadPolicy('policies', {}).policy.datasets.clinic!, shop: eventsDataset() };

    for (const s of SCENARIOS) {
      const dataset = s.dataset ?? 'clinic';
      const compiled = compile(await planQuery(s.dpq, datasets[dataset], { delta: 1e-7, dataset }));
      const rawName = s.dataset === undefined ? 'raw unbounded' : 'raw GROUP BY unit, key';
      if (s.dataset !== undefined) ctx.log(`hand-written reference:${s.handWritten}`);
      const variants: [string, () => Promise<unknown>][] = [
        ['compiled', () => client.query({ text: compiled.sql, values: [...compiled.params], rowMode: 'array' })],
        ['hand-written bounded', () => client.query(s.handWritten)],
        [rawName, () => client.query(s.raw)],
      ];
      for (const [, run] of variants) await run(); // warm the cache and the plans
      const times = new Map<string, number[]>(variants.map(([name]) => [name, []]));
      // Interleave the variants so that drift affects them alike.
      for (let i = 0; i < RUNS; i++) {
        for (const [name, run] of variants) times.get(name)!.push(...(await timeCalls(1, run)));
      }
      for (const [name] of variants) {
        const sorted = times.get(name)!.sort((a, b) => a - b);
        const median = percentile(sorted, 0.5);
        ctx.log(`${s.name} — ${name}: median ${median.toFixed(1)} ms`);
        rows.push({
          scenario: s.name,
          figure: name,
          value: median,
          unit: 'ms (median of 11)',
          ...(name === 'hand-written bounded' ? { sql: s.handWritten.trim() } : { reference: { scenario: s.name, figure: 'hand-written bounded' } }),
        });
      }
    }
  } finally {
    await client.end();
  }
  return rows;
};

export default bench;
