import { expect } from 'chai';
import pg from 'pg';
import { postgresCluster } from '../support/cluster.ts';

describe('test harness', () => {
  it('starts a real PostgreSQL 15 server', async () => {
    const client = new pg.Client({ connectionString: postgresCluster().url });
    await client.connect();
    try {
      const r = await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
      expect(Number(r.rows[0]!.v)).to.be.within(150000, 189999);
    } finally {
      await client.end();
    }
  });
});
