/**
 * Shared by the SQL tests: the demo policy, small hand-made policies, refusal helpers, and the
 * execution fixture — the demo dataset plus edge-case rows (NaN, NULLs, values outside bounds and
 * domains, a NULL unit, an infinite date and one beyond the timestamp range, a person with
 * hundreds of visits) on the run's real
 * PostgreSQL and on PGlite.
 */
import { expect } from 'chai';
import pg from 'pg';
import { DpqError } from '../../src/errors.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import { datasetSchema, type Dataset } from '../../src/policy/schema.ts';
import { planQuery } from '../../src/sql/index.ts';
import type { QueryPlan } from '../../src/sql/plan/index.ts';
import type { ValidateOptions } from '../../src/sql/validate/index.ts';
import type { Warehouse } from '../../src/warehouse/adapter.ts';
import { loadDemo } from '../../src/warehouse/demo.ts';
import { createPgWarehouse } from '../../src/warehouse/pg.ts';
import { openPglite } from '../../src/postgres/pglite.ts';
import { createPgliteWarehouse } from '../../src/warehouse/pglite.ts';
import { postgresCluster } from '../support/cluster.ts';

export const clinic: Dataset = loadPolicy('policies', {}).policy.datasets.clinic!;

/** A dataset from a literal policy fragment (defaults applied by the real schema). */
export function dataset(fragment: unknown): Dataset {
  return datasetSchema.parse(fragment);
}

/** A three-table dataset: joins declared visits–patients only; labs is not declared. */
export const hospital: Dataset = dataset({
  schema: 'care',
  budget: { analyst: { epsilon: 10, delta: 1e-6 } },
  defaults: { epsilon: 0.5, delta: 1e-7 },
  joins: [['visits.pid', 'patients.pid']],
  tables: {
    patients: {
      unit: 'pid',
      maxRowsPerUnit: 1,
      columns: {
        pid: { type: 'id' },
        born: { type: 'date', bounds: ['1900-01-01', '2025-12-31'] },
        smoker: { type: 'boolean' },
        score: { type: 'integer', bounds: [-10, 10], granularity: 5 },
      },
    },
    visits: {
      unit: 'pid',
      maxRowsPerUnit: 10,
      maxGroupsPerUnit: 3,
      columns: {
        pid: { type: 'id' },
        ward: { type: 'text', values: ['a', 'b'] },
        seen_at: { type: 'timestamp', bounds: ['2024-01-01T00:00:00Z', '2024-03-31T23:59:59Z'] },
        fee: { type: 'numeric', bounds: [-1.5, 2.5], granularity: 0.25 },
        level: { type: 'integer', values: [1, 2, 3] },
      },
    },
    labs: {
      unit: 'pid',
      maxRowsPerUnit: 5,
      columns: { pid: { type: 'id' }, value: { type: 'numeric', bounds: [0, 1], granularity: 0.001 } },
    },
  },
});

export const DEFAULT_OPTIONS: ValidateOptions = { delta: 1e-7, dataset: 'clinic' };

export function plan(sql: string, options: Partial<ValidateOptions> = {}, ds: Dataset = clinic): Promise<QueryPlan> {
  return planQuery(sql, ds, { ...DEFAULT_OPTIONS, ...options });
}

/** The DpqError a query is refused with (fails the test when it is accepted). */
export async function refusal(sql: string, options: Partial<ValidateOptions> = {}, ds: Dataset = clinic): Promise<DpqError> {
  let accepted: QueryPlan | undefined;
  try {
    accepted = await plan(sql, options, ds);
  } catch (err: unknown) {
    if (err instanceof DpqError) return err;
    throw err;
  }
  expect.fail(`accepted: ${sql}\n${JSON.stringify(accepted.aggregates.map((a) => a.fn))}`);
}

/** Test-sized demo: skewed, with clamping, and quick to load. */
export const FIXTURE_PATIENTS = 1_500;

/** Edge cases added to the demo rows (the database is ours: constraints are relaxed for them). */
export const EDGE_ROWS = [
  'ALTER TABLE visits ALTER COLUMN patient_id DROP NOT NULL',
  'ALTER TABLE visits ALTER COLUMN diagnosis DROP NOT NULL',
  'ALTER TABLE visits ALTER COLUMN region DROP NOT NULL',
  "INSERT INTO patients VALUES (900001, 'Edge One', 'e1@example.org', '000-00-0001', '94100', 1850, 'F'), (900002, 'Edge Two', 'e2@example.org', '000-00-0002', '10000', 2100, 'Q'), (900003, 'Heavy User', 'h@example.org', '000-00-0003', '98100', 1990, 'X')",
  `INSERT INTO visits (patient_id, region, visited_on, cost, diagnosis, notes) VALUES
     (900001, 'north', '2021-01-01', 'NaN', 'X1', 'n'),
     (900001, 'north', '2021-01-02', -50, NULL, 'n'),
     (900001, 'mars', '2021-01-03', 99999, 'X1', 'n'),
     (900001, NULL, '2021-01-04', 10, 'X1', 'n'),
     (NULL, 'south', '2021-01-05', 10, 'X1', 'n'),
     (900002, 'east', 'infinity', 10.005, 'X2', 'n'),
     (900002, 'east', '2019-06-01', 4999.995, 'X2', 'n'),
     (900002, 'west', '300000-01-01', 10, 'X2', 'n')`,
  `INSERT INTO visits (patient_id, region, visited_on, cost, diagnosis, notes)
     SELECT 900003, (ARRAY['north','south','east','west'])[1 + g % 4], DATE '2022-01-01' + g, (g * 37 % 6000)::numeric, 'heavy' || (g % 30), 'n'
     FROM generate_series(1, 300) AS g`,
  'ANALYZE visits',
];

export interface Fixture {
  readonly backend: 'pg' | 'pglite';
  readonly warehouse: Warehouse;
  close(): Promise<void>;
}

let pgFixture: Promise<Fixture> | undefined;
let pgliteFixture: Promise<Fixture> | undefined;

/** A fresh database `dpq_<name>_<pid>` of the run's cluster with `setup` (statements, or a function) run in it; its URL. */
export async function freshDatabase(name: string, setup: readonly string[] | ((c: pg.Client) => Promise<void>)): Promise<string> {
  const cluster = postgresCluster();
  const db = `dpq_${name}_${process.pid}`;
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${db}`);
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  const client = new pg.Client({ connectionString: cluster.urlFor(db) });
  await client.connect();
  if (typeof setup === 'function') await setup(client);
  else for (const stmt of setup) await client.query(stmt);
  await client.end();
  return cluster.urlFor(db);
}

/** One database of the run's cluster with the fixture (shared by the SQL tests). */
export function pgFixtureOnce(): Promise<Fixture> {
  pgFixture ??= (async () => {
    const url = await freshDatabase('sql', async (client) => {
      await loadDemo(client, { patients: FIXTURE_PATIENTS });
      for (const stmt of EDGE_ROWS) await client.query(stmt);
    });
    const warehouse = createPgWarehouse({ url, statementTimeoutMs: 30_000 });
    return { backend: 'pg' as const, warehouse, close: () => warehouse.close() };
  })();
  return pgFixture;
}

/** An in-memory PGlite with the same fixture. */
export function pgliteFixtureOnce(): Promise<Fixture> {
  pgliteFixture ??= (async () => {
    const db = await openPglite(undefined);
    await loadDemo(db, { patients: FIXTURE_PATIENTS });
    for (const stmt of EDGE_ROWS) await db.query(stmt);
    const warehouse = createPgliteWarehouse({ db, statementTimeoutMs: 60_000 });
    return { backend: 'pglite' as const, warehouse, close: () => warehouse.close() };
  })();
  return pgliteFixture;
}

export const FIXTURES: readonly { name: 'pg' | 'pglite'; get: () => Promise<Fixture> }[] = [
  { name: 'pg', get: pgFixtureOnce },
  { name: 'pglite', get: pgliteFixtureOnce },
];
