/**
 * One audit entry per charge: each entry's ε/δ is what that entry charged, so the log summed per
 * principal and dataset equals the ledger; an entry recording a release charged earlier carries 0
 * and names the charging entry. `GET /v1/audit/verify` and `npx dpq audit verify` check the sums.
 */
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import pg from 'pg';
import { startService, type TestService } from '../support/service.ts';

interface Entry {
  seq: number;
  actor: string;
  action: string;
  dataset: string | null;
  outcome: string;
  epsilon: number | null;
  delta: number | null;
  details: Record<string, unknown> | null;
}

describe('one audit entry per charge, checked against the ledger', function () {
  this.timeout(120_000);
  let svc: TestService;
  before(async () => {
    svc = await startService('pg');
  });
  after(async () => svc?.stop());

  const query = async (principal: string, body: Record<string, unknown>): Promise<number> =>
    (await svc.request('POST', '/v1/queries', { principal, body })).status;
  const entries = async (): Promise<Entry[]> => ((await (await svc.request('GET', '/v1/audit?limit=1000', { principal: 'carol' })).json()) as { entries: Entry[] }).entries;
  const spent = async (principal: string): Promise<{ epsilon: number; delta: number }> => {
    const b = (await (await svc.request('GET', '/v1/budget', { principal })).json()) as { budgets: { epsilon: { spent: number }; delta: { spent: number } }[] };
    return { epsilon: b.budgets[0]!.epsilon.spent, delta: b.budgets[0]!.delta.spent };
  };

  it('sums the log per principal and dataset to the ledger; answers carry 0 and name their charge', async () => {
    expect(await query('alice', { sql: 'SELECT region, COUNT(*) FROM visits GROUP BY region', epsilon: 0.5 })).to.equal(200);
    expect(await query('alice', { sql: 'SELECT region, COUNT(*) FROM visits GROUP BY region', epsilon: 0.5 })).to.equal(200); // replay
    expect(await query('alice', { sql: 'SELECT diagnosis, COUNT(*) FROM visits GROUP BY diagnosis', epsilon: 0.3, delta: 1e-7 })).to.equal(200);
    expect(await query('sam', { sql: 'SELECT AVG(cost) FROM visits', epsilon: 1.25 })).to.equal(200);
    expect(await query('sam', { sql: 'SELECT AVG(cost) FROM visits', epsilon: 50 })).to.equal(400); // refused
    expect((await svc.request('GET', '/v1/metrics/visits_by_region', { principal: 'alice' })).status).to.equal(200);

    const log = await entries();
    for (const principal of ['alice', 'sam']) {
      const mine = log.filter((e) => e.action === 'query' && e.actor === principal);
      const sum = (k: 'epsilon' | 'delta'): number => mine.reduce((s, e) => s + (e[k] ?? 0), 0);
      const ledger = await spent(principal);
      expect(sum('epsilon')).to.be.closeTo(ledger.epsilon, 1e-9);
      expect(sum('delta')).to.be.closeTo(ledger.delta, 1e-15);
    }
    expect((await spent('alice')).epsilon, 'positive control: alice did spend').to.be.closeTo(0.8, 1e-9);
    const bySeq = new Map(log.map((e) => [e.seq, e]));
    const answers = log.filter((e) => e.outcome === 'answered');
    expect(answers).to.have.length(4); // three queries and the metric release
    for (const a of answers) {
      expect([a.epsilon, a.delta]).to.deep.equal([0, 0]);
      const charge = bySeq.get(a.details!.chargedBy as number)!;
      expect(charge.details!.stage).to.equal('charged');
      expect(charge.details!.releaseId).to.equal(a.details!.releaseId);
      expect(charge.epsilon).to.be.greaterThan(0);
    }
    expect(await (await svc.request('GET', '/v1/audit/verify', { principal: 'carol' })).json()).to.deep.include({ ok: true });
  });

  it('reports a ledger that differs from the log, over HTTP and in the CLI', async () => {
    const url = svc.env.DATABASE_URL!;
    const cli = (): { status: number | null; out: string } => {
      const r = spawnSync(process.execPath, ['bin/dpq.js', 'audit', 'verify'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', DPQ_STATE_URL: url, DATABASE_URL: url } });
      return { status: r.status, out: r.stdout };
    };
    expect(cli().status, 'control: the untouched log and ledger agree').to.equal(0);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query("UPDATE dpq.budget_accounts SET eps_micro = eps_micro - 100000 WHERE principal = 'alice'");
      const r = (await (await svc.request('GET', '/v1/audit/verify', { principal: 'carol' })).json()) as { ok: boolean; reason?: string };
      expect(r.ok).to.equal(false);
      expect(r.reason).to.match(/alice on clinic .*ledger/);
      const bad = cli();
      expect(bad.status).to.equal(1);
      expect(JSON.parse(bad.out)).to.deep.include({ ok: false });
    } finally {
      await c.query("UPDATE dpq.budget_accounts SET eps_micro = eps_micro + 100000 WHERE principal = 'alice'");
      await c.end();
    }
  });
});
