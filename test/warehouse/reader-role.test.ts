import { expect } from 'chai';
import pg from 'pg';
import { postgresCluster } from '../support/cluster.ts';
import { createDemoDatabase, startService } from '../support/service.ts';

async function asSuperuser(url: string, statements: string[]): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    for (const s of statements) await c.query(s);
  } finally {
    await c.end();
  }
}

/** Production rarely connects as a superuser: reads must still run as dpq_reader. */
describe('reads as dpq_reader for a non-superuser connection (pg)', function () {
  this.timeout(120_000);

  it('grants the role to the connecting user, answers queries, and reads nothing else', async () => {
    const superUrl = await createDemoDatabase();
    const db = new URL(superUrl).pathname.slice(1);
    const app = `dpq_app_${process.pid}`;
    await asSuperuser(postgresCluster().url, [`CREATE ROLE ${app} LOGIN CREATEROLE`, `ALTER DATABASE ${db} OWNER TO ${app}`]);
    await asSuperuser(superUrl, [
      `GRANT USAGE ON SCHEMA public TO ${app}`,
      `GRANT SELECT ON public.patients, public.visits TO ${app} WITH GRANT OPTION`,
      `CREATE TABLE public.secrets (v text)`,
      `GRANT SELECT ON public.secrets TO ${app}`,
    ]);
    const url = new URL(superUrl);
    url.username = app;
    const svc = await startService('pg', { env: { DATABASE_URL: url.toString() } });
    try {
      const res = await svc.request('POST', '/v1/queries', { principal: 'alice', body: { sql: 'SELECT COUNT(*) FROM visits', epsilon: 1 } });
      expect(res.status).to.equal(200);
      expect((await svc.request('GET', '/readyz')).status).to.equal(200);
      const w = svc.runtime.warehouse;
      expect((await w.read('SELECT current_user AS u', [])).rows[0]![0]).to.equal('dpq_reader');
      const denied = await w.read('SELECT v FROM public.secrets', []).catch((e: unknown) => e as { sqlState?: string });
      expect((denied as { sqlState?: string }).sqlState).to.equal('42501');
    } finally {
      await svc.stop();
    }
  });
});
