/**
 * A float8 column on a grid wider than 2^51 steps: the clamped bound, times the grid's scale in
 * float8, lands one step above the upper bound unless the grid value is clamped again. One person
 * with a value far above the bounds must count exactly the upper bound (the sensitivity).
 */
import { expect } from 'chai';
import { decodeResult, histogramCounts } from '../../src/queries/decode-result.ts';
import { compile } from '../../src/sql/index.ts';
import type { Warehouse } from '../../src/warehouse/adapter.ts';
import { createPgWarehouse } from '../../src/warehouse/pg.ts';
import { openPglite } from '../../src/postgres/pglite.ts';
import { createPgliteWarehouse } from '../../src/warehouse/pglite.ts';
import { dataset, freshDatabase, plan } from './support.ts';

/** Upper bound 35184372088832.09 at granularity 0.01 is grid value 3518437208883209 (≈ 2^51.6): float8 makes it …210. */
const UPPER = 3_518_437_208_883_209n;
const wide = dataset({
  schema: 'wide',
  budget: { analyst: { epsilon: 10, delta: 1e-6 } },
  defaults: { epsilon: 0.5, delta: 1e-7 },
  tables: {
    readings: {
      unit: 'pid',
      maxRowsPerUnit: 1,
      columns: { pid: { type: 'id' }, tag: { type: 'text' }, v: { type: 'numeric', bounds: [0, 35184372088832.09], granularity: 0.01 } },
    },
  },
});
const SETUP = [
  'CREATE SCHEMA wide',
  'CREATE TABLE wide.readings (pid int8, tag text, v float8)',
  "INSERT INTO wide.readings VALUES (1, 'high', 1e20), (2, 'inf', 'Infinity'), (3, 'low', -1e20)",
];

async function pgWarehouse(): Promise<Warehouse> {
  return createPgWarehouse({ url: await freshDatabase('wide', SETUP), statementTimeoutMs: 30_000 });
}

async function pgliteWarehouse(): Promise<Warehouse> {
  const db = await openPglite(undefined);
  for (const s of SETUP) await db.query(s);
  return createPgliteWarehouse({ db, statementTimeoutMs: 60_000 });
}

for (const [name, open] of [['PostgreSQL', pgWarehouse], ['PGlite', pgliteWarehouse]] as const) {
  describe(`float8 values on a grid wider than 2^51 steps stay within the bounds (${name})`, function () {
    this.timeout(120_000);
    let warehouse: Warehouse;
    before(async () => {
      warehouse = await open();
    });
    after(async () => warehouse?.close());

    const run = async (sql: string): Promise<readonly (bigint | readonly bigint[])[]> => {
      const p = await plan(sql, { dataset: 'wide' }, wide);
      const compiled = compile(p);
      const [g] = decodeResult(p, compiled, await warehouse.read(compiled.sql, compiled.params));
      return g!.values.map((v) => (typeof v === 'bigint' ? v : histogramCounts(v)));
    };

    it('clamps 1e20 and Infinity to exactly the upper grid value, -1e20 to the lower', async () => {
      expect(await run("SELECT SUM(v) FROM readings WHERE tag = 'high'")).to.deep.equal([UPPER]);
      expect(await run("SELECT SUM(v) FROM readings WHERE tag = 'inf'")).to.deep.equal([UPPER]);
      expect(await run("SELECT SUM(v) FROM readings WHERE tag = 'low'")).to.deep.equal([0n]);
      // Positive control: the float8 arithmetic itself does overshoot by one step here.
      const raw = await warehouse.read("SELECT round(LEAST(GREATEST(1e20::float8, 0::numeric), '35184372088832.09'::numeric) * 100::numeric)::int8", []);
      expect(raw.rows[0]![0]).to.equal(UPPER + 1n);
    });

    it('puts a quantile’s values into the histogram’s own bins (the decoder accepts them)', async () => {
      const [h] = await run('SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY v) FROM readings');
      const counts = h as readonly bigint[];
      expect(counts.reduce((a, b) => a + b, 0n)).to.equal(3n);
      expect(counts[counts.length - 1]).to.equal(2n);
    });
  });
}
