/**
 * Mocha root hooks: one throw-away PostgreSQL cluster for the whole run.
 *
 * The suite never skips the real-database tests: without PostgreSQL binaries the run fails here.
 * (`.ci/run` sets DPQ_TEST_REQUIRE_POSTGRES=1 to say so explicitly; there is no mode without it.)
 */
import { setCluster } from '../support/cluster.ts';
import { findPgBin, startPostgres, type Cluster } from '../support/postgres.ts';

let cluster: Cluster | undefined;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    this.timeout(120_000);
    if (findPgBin('initdb') === undefined) {
      throw new Error('PostgreSQL server binaries (initdb, pg_ctl) are missing: apt-get install postgresql');
    }
    cluster = await startPostgres();
    setCluster(cluster);
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    // Removing the cluster's data dir (a database per test service) can take a minute on a busy
    // machine; this is clean-up, not a measurement.
    this.timeout(300_000);
    await cluster?.stop();
  },
};
