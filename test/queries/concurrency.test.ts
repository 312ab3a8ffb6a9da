import { expect } from 'chai';
import pg from 'pg';
import { mintToken } from '../../src/http/auth.ts';
import { concurrentQueries } from '../support/concurrent.ts';
import { policyDir } from '../support/policy.ts';
import { spawnServer, startService, TEST_JWT_SECRET, type ServerProcess, type TestService } from '../support/service.ts';

/**
 * 200 concurrent requests of one analyst, spread over two server processes on one state store,
 * spend exactly the limit: successes = limit / cost, the ledger holds exactly the limit, and the
 * audit chain is whole.
 */
describe('budget under concurrency: two server processes, one analyst (pg)', function () {
  this.timeout(180_000);
  let svc: TestService;
  let second: ServerProcess;

  before(async () => {
    // Limit 10, cost 0.5 per query: exactly 20 answers.
    const dir = policyDir({ 'clinic.yaml': (t) => t.replace('cacheTtl: 24h', 'cacheTtl: 0s') });
    svc = await startService('pg', { env: { DPQ_POLICY_DIR: dir } });
    second = await spawnServer({ ...svc.env, LOG_LEVEL: 'error' });
  });
  after(async () => {
    await second?.stop();
    await svc?.stop();
  });

  it('never overspends: exactly limit/cost queries succeed', async () => {
    const token = await mintToken(new TextEncoder().encode(TEST_JWT_SECRET), 'alice');
    const urls = [svc.url, second.url];
    const statuses = await concurrentQueries(urls, token, 200, (i) => ({ sql: `SELECT COUNT(*) FROM visits WHERE cost > ${i}`, epsilon: 0.5 }));
    const count = (s: string): number => statuses.filter((x) => x === s).length;
    expect(count('ok')).to.equal(20);
    expect(count('BUDGET_EXHAUSTED')).to.equal(180);

    const c = new pg.Client({ connectionString: svc.env.DATABASE_URL });
    await c.connect();
    try {
      const ledger = await c.query<{ spent: string; events: string }>(
        `SELECT (SELECT eps_micro FROM dpq.budget_accounts WHERE principal = 'alice')::text AS spent,
                (SELECT count(*) FROM dpq.budget_events WHERE principal = 'alice' AND kind = 'query')::text AS events`,
      );
      expect(ledger.rows[0]).to.deep.equal({ spent: '10000000', events: '20' });
      const total = await c.query<{ spent: string }>(`SELECT eps_micro::text AS spent FROM dpq.budget_accounts WHERE principal = '*'`);
      expect(total.rows[0]!.spent).to.equal('10000000');
    } finally {
      await c.end();
    }
    const verify = (await (await svc.request('GET', '/v1/audit/verify', { principal: 'carol' })).json()) as { ok: boolean; entries: number };
    // 20 charged + 20 answered + 180 refused
    expect(verify).to.deep.include({ ok: true, entries: 220 });
  });
});
