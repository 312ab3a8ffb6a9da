import { expect } from 'chai';
import pg from 'pg';
import { zcdpBudget } from '../../src/budget/filter.ts';
import { mintToken } from '../../src/http/auth.ts';
import { concurrentQueries } from '../support/concurrent.ts';
import { policyDir } from '../support/policy.ts';
import { spawnServer, startService, TEST_JWT_SECRET, type ServerProcess, type TestService } from '../support/service.ts';

/**
 * Under `accounting: zcdp`, 200 concurrent Gaussian requests of one analyst over two server
 * processes on one state store are admitted exactly while the summed ρ stays inside the ρ budget
 * of the analyst's limit, and /v1/budget reports the spending as (ε, δ).
 */
describe('zcdp budget under concurrency: two server processes, one analyst (pg)', function () {
  this.timeout(240_000);
  let svc: TestService;
  let second: ServerProcess;
  const limit = { epsMicro: 1_000_000, deltaPico: 1_000_000 }; // ε 1, δ 1e-6

  before(async () => {
    const dir = policyDir({
      'clinic.yaml': (t) =>
        t
          .replace('cacheTtl: 24h', 'cacheTtl: 0s')
          .replace('analyst: { epsilon: 10, delta: 1.0e-6 }', 'analyst: { epsilon: 1, delta: 1.0e-6 }')
          .replace('renew: never', 'renew: never\n      accounting: zcdp'),
    });
    svc = await startService('pg', { env: { DPQ_POLICY_DIR: dir } });
    second = await spawnServer({ ...svc.env, LOG_LEVEL: 'error' });
  });
  after(async () => {
    await second?.stop();
    await svc?.stop();
  });

  it('never passes the ρ budget: exactly ⌊ρ_L / ρ⌋ Gaussian releases succeed', async () => {
    const token = await mintToken(new TextEncoder().encode(TEST_JWT_SECRET), 'alice');
    const urls = [svc.url, second.url];
    const statuses = await concurrentQueries(urls, token, 200, (i) => ({ sql: `SELECT COUNT(*) FROM visits WHERE cost > ${i}`, epsilon: 0.2, delta: 1e-7, mechanism: 'gaussian' }));
    const count = (s: string): number => statuses.filter((x) => x === s).length;

    const c = new pg.Client({ connectionString: svc.env.DATABASE_URL });
    await c.connect();
    let rho: number;
    try {
      const events = await c.query<{ rho: string; n: string; distinct: string }>(
        `SELECT max(rho_pico)::text AS rho, count(*)::text AS n, count(DISTINCT rho_pico)::text AS distinct
         FROM dpq.budget_events WHERE principal = 'alice' AND kind = 'query'`,
      );
      expect(events.rows[0]!.distinct).to.equal('1');
      rho = Number(events.rows[0]!.rho);
      const budget = zcdpBudget(limit).rhoPico;
      const expected = Math.floor(budget / rho);
      // basic would admit 1e-6 / 1e-7 = 10 of them (and 1 / 0.2 = 5 by ε)
      expect(expected).to.be.greaterThan(10);
      expect(count('ok')).to.equal(expected);
      expect(count('BUDGET_EXHAUSTED')).to.equal(200 - expected);
      expect(events.rows[0]!.n).to.equal(String(expected));
      const account = await c.query<{ z: string }>(`SELECT zrho_pico::text AS z FROM dpq.budget_accounts WHERE principal = 'alice'`);
      expect(Number(account.rows[0]!.z)).to.equal(expected * rho);
      expect(Number(account.rows[0]!.z)).to.be.at.most(budget);
    } finally {
      await c.end();
    }
    const overview = (await (await svc.request('GET', '/v1/budget', { principal: 'alice' })).json()) as {
      budgets: { dataset: string; epsilon: { spent: number; remaining: number; limit: number }; delta: { spent: number } }[];
    };
    const clinic = overview.budgets.find((d) => d.dataset === 'clinic')!;
    expect(clinic.epsilon.limit).to.equal(1);
    expect(clinic.epsilon.spent).to.be.at.most(1).and.above(0.9);
    expect(clinic.delta.spent).to.equal(5e-7);
  });
});
