import { expect } from 'chai';
import pg from 'pg';
import { loadPolicy } from '../../src/policy/load.ts';
import { type Warehouse, WarehouseError } from '../../src/warehouse/adapter.ts';
import { createPgWarehouse } from '../../src/warehouse/pg.ts';
import { openPglite } from '../../src/postgres/pglite.ts';
import { createPgliteWarehouse } from '../../src/warehouse/pglite.ts';
import { ensureReaderRole, READER_ROLE } from '../../src/warehouse/reader-role.ts';
import { createDemoDatabase, createDemoDataDir } from '../support/service.ts';

const { policy } = loadPolicy('policies', {});

async function withWarehouse(backend: 'pg' | 'pglite', fn: (w: Warehouse, setup: (sql: string) => Promise<unknown>) => Promise<void>): Promise<void> {
  if (backend === 'pg') {
    const url = await createDemoDatabase();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const role = await ensureReaderRole(admin, policy);
    const w = createPgWarehouse({ url, statementTimeoutMs: 500, role });
    try {
      await fn(w, (sql) => admin.query(sql));
    } finally {
      await w.close();
      await admin.end();
    }
  } else {
    const db = await openPglite(await createDemoDataDir());
    const role = await ensureReaderRole(db, policy);
    const w = createPgliteWarehouse({ db, statementTimeoutMs: 500, role });
    try {
      await fn(w, (sql) => db.exec(sql));
    } finally {
      await w.close();
    }
  }
}

for (const backend of ['pg', 'pglite'] as const) {
  describe(`warehouse adapter (${backend})`, function () {
    this.timeout(120_000);

    it('returns int8 as bigint, numeric as exact text and dates as ISO text', () =>
      withWarehouse(backend, async (w) => {
        const r = await w.read(
          "SELECT 9007199254740993::int8 AS big, 12345678901234567890.12::numeric AS dec, DATE '2024-02-29' AS d, 7::int4 AS small, ARRAY[1,2]::int8[] AS arr",
          [],
        );
        expect(r.fields).to.deep.equal(['big', 'dec', 'd', 'small', 'arr']);
        expect(r.rows[0]).to.deep.equal([9007199254740993n, '12345678901234567890.12', '2024-02-29', 7, [1n, 2n]]);
      }));

    it('reads the demo tables with parameters', () =>
      withWarehouse(backend, async (w) => {
        const r = await w.read('SELECT count(*) AS n FROM visits WHERE region = $1', ['north']);
        expect(r.rows[0]![0]).to.be.a('bigint');
        expect(Number(r.rows[0]![0])).to.be.greaterThan(1000);
      }));

    it('runs reads in a READ ONLY transaction', () =>
      withWarehouse(backend, async (w) => {
        const err = await w.read('CREATE TABLE intruder (a int)', []).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(WarehouseError);
        expect((err as WarehouseError).sqlState).to.equal('25006');
        expect((err as WarehouseError).reached).to.equal(true);
      }));

    it(`reads as ${READER_ROLE}, which cannot see the state store`, () =>
      withWarehouse(backend, async (w, setup) => {
        await setup('CREATE SCHEMA IF NOT EXISTS dpq; CREATE TABLE IF NOT EXISTS dpq.secret (a int)');
        const who = await w.read('SELECT current_user AS u', []);
        expect(who.rows[0]![0]).to.equal(READER_ROLE);
        const err = await w.read('SELECT * FROM dpq.secret', []).catch((e: unknown) => e);
        expect((err as WarehouseError).sqlState).to.equal('42501');
      }));

    it('keeps the database text out of the error message', () =>
      withWarehouse(backend, async (w) => {
        const err = (await w.read("SELECT 1/0 FROM visits WHERE notes = 'secret value'", []).catch((e: unknown) => e)) as WarehouseError;
        expect(err).to.be.instanceOf(WarehouseError);
        expect(err.message).to.not.include('division');
        expect(err.message).to.not.include('secret value');
      }));
  });
}

describe('warehouse adapter (pg) limits', function () {
  this.timeout(60_000);

  it('enforces statement_timeout', () =>
    withWarehouse('pg', async (w) => {
      const err = (await w.read('SELECT pg_sleep(5)', []).catch((e: unknown) => e)) as WarehouseError;
      expect(err).to.be.instanceOf(WarehouseError);
      expect(err.sqlState).to.equal('57014');
      expect(err.reached).to.equal(true);
    }));

  it('reports an unreachable server as not reached', async () => {
    const w = createPgWarehouse({ url: 'postgresql://postgres@127.0.0.1:1/none', statementTimeoutMs: 500 });
    const err = (await w.read('SELECT 1', []).catch((e: unknown) => e)) as WarehouseError;
    await w.close();
    expect(err).to.be.instanceOf(WarehouseError);
    expect(err.reached).to.equal(false);
  });
});
