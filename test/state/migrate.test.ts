import { expect } from 'chai';
import pg from 'pg';
import { migrate } from '../../src/state/migrate.ts';
import { MIGRATIONS } from '../../src/state/migrations.ts';
import { createPgStateStore } from '../../src/state/pg.ts';
import { createPgliteStateStore } from '../../src/state/pglite.ts';
import { openPglite } from '../../src/postgres/pglite.ts';
import { postgresCluster } from '../support/cluster.ts';

describe('state store migrations', function () {
  this.timeout(60_000);

  it('applies every migration once when several replicas start together (pg)', async () => {
    const cluster = postgresCluster();
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query('CREATE DATABASE dpq_migrate_race');
    await admin.end();
    const stores = Array.from({ length: 6 }, () => createPgStateStore(cluster.urlFor('dpq_migrate_race'), 2));
    try {
      const results = await Promise.all(stores.map((s) => migrate(s)));
      const applied = results.flat();
      expect(applied.sort()).to.deep.equal(MIGRATIONS.map((m) => m.version).sort());
      const rows = await stores[0]!.query<{ version: number }>('SELECT version FROM dpq.schema_migrations ORDER BY version');
      expect(rows.rows.map((r) => Number(r.version))).to.deep.equal(MIGRATIONS.map((m) => m.version));
      expect(await migrate(stores[0]!)).to.deep.equal([]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('migrates the embedded store and survives a restart of its data dir', async () => {
    const db = await openPglite(undefined);
    const store = createPgliteStateStore(db, true);
    expect(await migrate(store)).to.deep.equal(MIGRATIONS.map((m) => m.version));
    expect(await migrate(store)).to.deep.equal([]);
    const head = await store.query<{ seq: bigint }>('SELECT seq FROM dpq.audit_head');
    expect(head.rows[0]!.seq).to.equal(0n);
    await store.close();
  });
});
