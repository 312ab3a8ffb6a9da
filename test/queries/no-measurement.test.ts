/**
 * A query that measures nothing over public domains only is answered from the policy: it never
 * touches the warehouse (so its running time cannot depend on the data), and its rows are exactly
 * what the compiled query would return. With private keys it is charged for partition selection.
 */
import { expect } from 'chai';
import pg from 'pg';
import { policyGroups } from '../../src/queries/execute.ts';
import { decodeResult } from '../../src/queries/decode-result.ts';
import { compile } from '../../src/sql/index.ts';
import { FIXTURES, plan } from '../sql/support.ts';
import { startService, type TestService } from '../support/service.ts';

/** Hold an ACCESS EXCLUSIVE lock on visits: any statement reading it waits (here: until its timeout). */
async function lockVisits(url: string): Promise<() => Promise<void>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('BEGIN');
  await c.query('LOCK TABLE visits IN ACCESS EXCLUSIVE MODE');
  return async () => {
    await c.query('ROLLBACK');
    await c.end();
  };
}

describe('queries that measure nothing', function () {
  this.timeout(120_000);
  let svc: TestService;
  before(async () => {
    svc = await startService('pg', { env: { DPQ_STATEMENT_TIMEOUT_MS: '300' } });
  });
  after(async () => svc?.stop());

  const post = (sql: string, epsilon = 0.5): Promise<Response> => svc.request('POST', '/v1/queries', { principal: 'alice', body: { sql, epsilon } });

  it('answers public keys from the policy while the warehouse table is locked (control: a COUNT times out)', async () => {
    const release = await lockVisits(svc.env.DATABASE_URL!);
    try {
      const res = await post("SELECT region FROM visits WHERE diagnosis = 'J45' GROUP BY region");
      const body = (await res.json()) as { rows: { region: string }[]; privacy: { epsilon: number; delta: number } };
      expect(res.status, JSON.stringify(body)).to.equal(200);
      expect(body.rows.map((r) => r.region)).to.deep.equal(['north', 'south', 'east', 'west']);
      expect(body.privacy).to.deep.include({ epsilon: 0, delta: 0 });
      const twoKeys = await post("SELECT region, extract(quarter FROM visited_on) AS q FROM visits WHERE region IN ('north', 'east') GROUP BY 1, 2");
      expect(twoKeys.status).to.equal(200);
      expect(((await twoKeys.json()) as { rows: unknown[] }).rows).to.have.length(16); // 4 regions × 4 quarters
      // Positive control: a query that measures something does go to the (locked) warehouse.
      expect((await post('SELECT region, COUNT(*) FROM visits GROUP BY region')).status).to.equal(502);
    } finally {
      await release();
    }
  });

  it('charges a query over private keys for its partition selection', async () => {
    const before = (await (await svc.request('GET', '/v1/budget', { principal: 'sam' })).json()) as { budgets: { epsilon: { spent: number } }[] };
    const res = await svc.request('POST', '/v1/queries', { principal: 'sam', body: { sql: 'SELECT diagnosis FROM visits GROUP BY diagnosis', epsilon: 0.5 } });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { privacy: { epsilon: number; partitionSelection: string }; budget: { epsilon: { spent: number } } };
    expect(body.privacy).to.deep.include({ epsilon: 0.5, partitionSelection: 'private' });
    expect(body.budget.epsilon.spent).to.be.closeTo(before.budgets[0]!.epsilon.spent + 0.5, 1e-9);
  });
});

for (const fixture of FIXTURES) {
  describe(`the policy's answer equals the warehouse's (${fixture.name})`, function () {
    this.timeout(120_000);
    const CASES = [
      "SELECT region FROM visits WHERE diagnosis = 'J45' GROUP BY region",
      "SELECT region, extract(quarter FROM visited_on) FROM visits WHERE region <> 'west' GROUP BY 1, 2",
      "SELECT date_trunc('year', visited_on) FROM visits WHERE visited_on >= '2023-01-01' GROUP BY 1",
      'SELECT sex FROM patients GROUP BY sex HAVING sex <> \'X\'',
    ];
    for (const sql of CASES) {
      it(sql, async () => {
        const { warehouse } = await fixture.get();
        const p = await plan(sql);
        const fromPolicy = policyGroups(p);
        expect(fromPolicy, 'answered from the policy').to.not.equal(undefined);
        const compiled = compile(p);
        const fromWarehouse = decodeResult(p, compiled, await warehouse.read(compiled.sql, compiled.params));
        expect(fromPolicy!.map((g) => g.keys)).to.deep.equal(fromWarehouse.map((g) => g.keys));
      });
    }

    it('(control) leaves plans that measure something or have private keys to the warehouse', async () => {
      expect(policyGroups(await plan('SELECT region, COUNT(*) FROM visits GROUP BY region'))).to.equal(undefined);
      expect(policyGroups(await plan('SELECT diagnosis FROM visits GROUP BY diagnosis'))).to.equal(undefined);
    });
  });
}
