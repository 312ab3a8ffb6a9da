/** A migrated state store in a fresh database of the run's PostgreSQL cluster. */
import pg from 'pg';
import { migrate } from '../../src/state/migrate.ts';
import { createPgStateStore } from '../../src/state/pg.ts';
import type { StateStore } from '../../src/state/store.ts';
import { postgresCluster } from './cluster.ts';

let counter = 0;

export async function freshStateStore(): Promise<{ store: StateStore; url: string }> {
  const cluster = postgresCluster();
  const name = `dpq_state_${process.pid}_${++counter}`;
  const c = new pg.Client({ connectionString: cluster.url });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const url = cluster.urlFor(name);
  const store = createPgStateStore(url, 4);
  await migrate(store);
  return { store, url };
}
