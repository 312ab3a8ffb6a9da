/**
 * The keyed-table shortcut (no bounding for a table with a unique index on its unit) must not
 * trust the catalog beyond the read: an inheritance parent is never keyed (`FROM p` reads its
 * children's rows too), and a plan made while a table was keyed still bounds when the index is
 * gone by the time it runs, because the check is made in the snapshot of the read itself.
 */
import { expect } from 'chai';
import pg from 'pg';
import { decodeResult } from '../../src/queries/decode-result.ts';
import { compile } from '../../src/sql/index.ts';
import { findKeyedTables } from '../../src/warehouse/keyed-tables.ts';
import type { Warehouse } from '../../src/warehouse/adapter.ts';
import { createPgWarehouse } from '../../src/warehouse/pg.ts';
import { openPglite } from '../../src/postgres/pglite.ts';
import { createPgliteWarehouse } from '../../src/warehouse/pglite.ts';
import { dataset, freshDatabase, plan } from './support.ts';

const ds = dataset({
  schema: 'k',
  budget: { analyst: { epsilon: 10, delta: 1e-6 } },
  defaults: { epsilon: 0.5, delta: 1e-7 },
  tables: {
    parent: { unit: 'pid', maxRowsPerUnit: 1, columns: { pid: { type: 'id' }, v: { type: 'integer', bounds: [0, 10] } } },
    people: { unit: 'pid', maxRowsPerUnit: 1, columns: { pid: { type: 'id' }, v: { type: 'integer', bounds: [0, 10] } } },
  },
});
const SETUP = [
  'CREATE SCHEMA k',
  'CREATE TABLE k.parent (pid int8 PRIMARY KEY, v int)',
  'CREATE TABLE k.child () INHERITS (k.parent)',
  'INSERT INTO k.parent VALUES (1, 10), (2, 10)',
  'INSERT INTO k.child VALUES (1, 10), (2, 10)', // FROM k.parent: two rows for each person
  'CREATE TABLE k.people (pid int8 PRIMARY KEY, v int)',
  'INSERT INTO k.people SELECT g, 10 FROM generate_series(1, 5) AS g',
];

interface Db {
  warehouse: Warehouse;
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

async function pgDb(): Promise<Db> {
  const url = await freshDatabase('keyed', SETUP);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const warehouse = createPgWarehouse({ url, statementTimeoutMs: 30_000 });
  return {
    warehouse,
    exec: async (sql) => void (await c.query(sql)),
    close: async () => {
      await warehouse.close();
      await c.end();
    },
  };
}

async function pgliteDb(): Promise<Db> {
  const db = await openPglite(undefined);
  for (const s of SETUP) await db.query(s);
  const warehouse = createPgliteWarehouse({ db, statementTimeoutMs: 60_000 });
  return { warehouse, exec: async (sql) => void (await db.query(sql)), close: () => warehouse.close() };
}

for (const [name, open] of [['PostgreSQL', pgDb], ['PGlite', pgliteDb]] as const) {
  describe(`keyed tables are checked in the read's own snapshot (${name})`, function () {
    this.timeout(120_000);
    let db: Db;
    before(async () => {
      db = await open();
    });
    after(async () => db?.close());

    const sumOf = async (sql: string, keyedTables: ReadonlySet<string>): Promise<{ sum: bigint; bounded: boolean }> => {
      const p = await plan(sql, { dataset: 'k', keyedTables }, ds);
      const compiled = compile(p);
      const [g] = decodeResult(p, compiled, await db.warehouse.read(compiled.sql, compiled.params));
      return { sum: g!.values[0] as bigint, bounded: p.bounding.needed };
    };

    it('skips the bounding sort when the catalog confirms the key (the bounded branch never runs)', async () => {
      const p = await plan('SELECT SUM(v) FROM people', { dataset: 'k', keyedTables: new Set(['people']) }, ds);
      const compiled = compile(p);
      const explain = await db.warehouse.read(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${compiled.sql}`, compiled.params);
      const text = explain.rows.map((r) => String(r[0])).join('\n');
      expect(text).to.match(/WindowAgg \(never executed\)/);
    });

    it('never takes an inheritance parent for keyed, and bounds it even when told it is', async () => {
      expect([...(await findKeyedTables(db.warehouse, ds))]).to.deep.equal(['people']);
      // Told it is keyed anyway (a stale or wrong hint): the read's own check still bounds.
      const r = await sumOf('SELECT SUM(v) FROM parent', new Set(['parent']));
      expect(r.bounded).to.equal(false);
      expect(r.sum).to.equal(20n); // two people, one row of 10 each; unbounded it would be 40
    });

    it('bounds a table whose unique index was dropped after planning, with duplicates inserted', async () => {
      const keyed = await findKeyedTables(db.warehouse, ds);
      expect(keyed.has('people')).to.equal(true);
      expect((await sumOf('SELECT SUM(v) FROM people', keyed)).sum, 'control: keyed and consistent').to.equal(50n);
      await db.exec('ALTER TABLE k.people DROP CONSTRAINT people_pkey');
      await db.exec('INSERT INTO k.people SELECT g, 10 FROM generate_series(1, 5) AS g');
      const r = await sumOf('SELECT SUM(v) FROM people', keyed); // planned with the stale hint
      expect(r.bounded).to.equal(false);
      expect(r.sum).to.equal(50n); // five people, one row each; unbounded it would be 100
      expect([...(await findKeyedTables(db.warehouse, ds))]).to.deep.equal([]);
    });
  });
}
