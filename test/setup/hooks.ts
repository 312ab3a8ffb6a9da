/** Mocha root hooks: one throw-away PostgreSQL cluster for the whole run. */
import { setCluster } from '../support/cluster.ts';
import { startPostgres, type Cluster } from '../support/postgres.ts';

let cluster: Cluster | undefined;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    this.timeout(120_000);
    cluster = await startPostgres();
    setCluster(cluster);
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await cluster?.stop();
  },
};
