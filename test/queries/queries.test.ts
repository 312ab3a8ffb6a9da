import { expect } from 'chai';
import pg from 'pg';
import { BACKENDS, startService, type TestService } from '../support/service.ts';
import { policyDir } from '../support/policy.ts';

interface Answer {
  id: string;
  columns: string[];
  rows: Record<string, unknown>[];
  privacy: { epsilon: number; delta: number; cached: boolean; mechanism: string; partitionSelection: string; split: { epsilon: number }[] };
  accuracy: Record<string, { stddev: number | null; ci: [number, number] | null; confidence: number }>;
  budget: { epsilon: { limit: number; spent: number; remaining: number }; delta: { spent: number } };
}

const REGION_SQL = 'SELECT region, COUNT(*) AS visits, AVG(cost) FROM visits GROUP BY region';

for (const backend of BACKENDS) {
  describe(`aggregate queries (${backend})`, function () {
    this.timeout(120_000);
    let svc: TestService;
    beforeEach(async () => {
      svc = await startService(backend);
    });
    afterEach(async () => svc?.stop());

    const post = (body: unknown, principal = 'alice', path = '/v1/queries'): Promise<Response> => svc.request('POST', path, { principal, body });

    it('answers with noisy rows, accuracy, privacy cost and remaining budget', async () => {
      const res = await post({ sql: REGION_SQL, epsilon: 0.5 });
      expect(res.status).to.equal(200);
      const a = (await res.json()) as Answer;
      expect(a.id).to.match(/^q_/);
      expect(a.columns).to.deep.equal(['region', 'visits', 'avg']);
      expect(a.rows.map((r) => r.region)).to.deep.equal(['north', 'south', 'east', 'west']);
      for (const r of a.rows) {
        expect(Number.isInteger(r.visits) && (r.visits as number) >= 0).to.equal(true);
        expect(r.avg).to.be.within(0, 5000);
      }
      expect(a.privacy).to.deep.include({ epsilon: 0.5, delta: 0, cached: false, mechanism: 'laplace', partitionSelection: 'public' });
      expect(a.privacy.split.reduce((s, x) => s + x.epsilon, 0)).to.be.closeTo(0.5, 1e-9);
      expect(a.accuracy.visits!.ci![1]).to.be.greaterThan(0);
      expect(a.accuracy.visits!.confidence).to.equal(0.95);
      expect(a.budget.epsilon).to.deep.equal({ limit: 10, spent: 0.5, remaining: 9.5 });
    });

    it('returns a repeated request from the replay cache, byte-identical and free', async () => {
      const first = await (await post({ sql: REGION_SQL, epsilon: 0.5 })).text();
      // Whitespace, keyword case and comments do not change the fingerprint.
      const again = await (await post({ sql: 'select region,   count(*) as visits, avg(cost) /* again */ from visits group by region', epsilon: 0.5 }, 'sam')).text();
      const rowsOf = (t: string): string => t.slice(t.indexOf('"rows":'), t.indexOf(',"accuracy"'));
      expect(rowsOf(again)).to.equal(rowsOf(first));
      const a = JSON.parse(again) as Answer;
      expect(a.privacy.cached).to.equal(true);
      expect(a.privacy.epsilon).to.equal(0);
      expect(a.budget.epsilon.spent).to.equal(0); // sam paid nothing
    });

    it('releases private group keys only through partition selection, charging δ', async () => {
      const res = await post({ sql: 'SELECT diagnosis, COUNT(*) FROM visits GROUP BY diagnosis', epsilon: 1, delta: 1e-7 });
      const a = (await res.json()) as Answer;
      expect(res.status).to.equal(200);
      expect(a.privacy.partitionSelection).to.equal('private');
      expect(a.privacy.delta).to.equal(1e-7);
      expect(a.rows.length).to.be.within(1, 20);
      expect(a.budget.delta.spent).to.equal(1e-7);
    });

    it('releases a CASE bucket as a public key (every listed value, in order, no δ) and a FILTER aggregate at the cost of an aggregate', async () => {
      const sql = "SELECT CASE WHEN cost < 100 THEN 'low' WHEN cost < 1000 THEN 'mid' ELSE 'high' END AS band, COUNT(*) AS n, COUNT(*) FILTER (WHERE region = 'north') AS north FROM visits GROUP BY band";
      const res = await post({ sql, epsilon: 0.5 });
      expect(res.status).to.equal(200);
      const a = (await res.json()) as Answer;
      expect(a.columns).to.deep.equal(['band', 'n', 'north']);
      expect(a.rows.map((r) => r.band)).to.deep.equal(['low', 'mid', 'high']);
      for (const r of a.rows) for (const c of ['n', 'north']) expect(Number.isInteger(r[c]) && (r[c] as number) >= 0, c).to.equal(true);
      expect(a.privacy).to.deep.include({ epsilon: 0.5, delta: 0, partitionSelection: 'public' });
      expect(a.privacy.split).to.have.length(2);
      expect(a.accuracy.north!.ci![1]).to.be.greaterThan(0);
      expect(a.budget.epsilon.spent).to.equal(0.5);
    });

    it('refuses ε outside the dataset limits with 400 and charges nothing', async () => {
      for (const epsilon of [5, 0.001]) {
        const res = await post({ sql: REGION_SQL, epsilon });
        expect(res.status).to.equal(400);
        expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('INVALID_REQUEST');
      }
      for (const body of [{ sql: REGION_SQL, delta: 1 }, { sql: REGION_SQL, epsilon: 'NaN' }, { sql: REGION_SQL, epsilom: 1 }, { sql: REGION_SQL, mechanism: 'gaussian', delta: 0 }, { sql: `${REGION_SQL}\u0000; DROP TABLE visits` }]) {
        expect((await post(body)).status).to.equal(400);
      }
      const budget = (await (await svc.request('GET', '/v1/budget', { principal: 'alice' })).json()) as { budgets: Answer['budget'][] };
      expect(budget.budgets[0]!.epsilon.spent).to.equal(0);
    });

    it('answers an unknown dataset with 404 and a principal without the query action with 403', async () => {
      expect((await post({ sql: REGION_SQL, dataset: 'nope' })).status).to.equal(404);
      const res = await post({ sql: REGION_SQL }, 'bob');
      expect(res.status).to.equal(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('FORBIDDEN');
    });

    it('refuses once the budget is spent, saying what is needed, what is left and how to ask for more', async () => {
      let answered = 0;
      for (let i = 0; i < 6; i++) {
        const res = await post({ sql: `SELECT COUNT(*) FROM visits WHERE cost > ${i}`, epsilon: 2 });
        if (res.status === 200) answered++;
        else {
          expect(res.status).to.equal(403);
          const e = (await res.json()) as { error: { code: string; details: { required: { epsilon: number }; remaining: { epsilon: number }; requestAccess: { budget: { kind: string }; raw: { kind: string; columns: string[] } } } } };
          expect(e.error.code).to.equal('BUDGET_EXHAUSTED');
          expect(e.error.details.required.epsilon).to.equal(2);
          expect(e.error.details.remaining.epsilon).to.equal(0);
          expect(e.error.details.requestAccess.budget.kind).to.equal('budget');
          expect(e.error.details.requestAccess.raw).to.deep.include({ kind: 'raw', columns: ['visits.cost'] });
        }
      }
      expect(answered).to.equal(5);
    });

    it('estimates cost and accuracy without charging, and finds ε for a requested half-width', async () => {
      const est = (await (await post({ sql: 'SELECT COUNT(*) FROM visits', epsilon: 1 }, 'alice', '/v1/queries/estimate')).json()) as {
        epsilon: number;
        accuracy: Record<string, { ci: [number, number] }>;
        allowed: boolean;
      };
      expect(est).to.deep.include({ epsilon: 1, allowed: true });
      const inv = (await (await post({ sql: 'SELECT COUNT(*) FROM visits', accuracy: { column: 'count', halfWidth: 100 } }, 'alice', '/v1/queries/estimate')).json()) as typeof est;
      expect(inv.accuracy.count!.ci[1]).to.be.at.most(100);
      // The ε found is the smallest: a little less gives a wider interval.
      const less = (await (await post({ sql: 'SELECT COUNT(*) FROM visits', epsilon: inv.epsilon * 0.98 }, 'alice', '/v1/queries/estimate')).json()) as typeof est;
      expect(less.accuracy.count!.ci[1]).to.be.greaterThan(100);
      const real = (await (await post({ sql: 'SELECT COUNT(*) FROM visits', epsilon: inv.epsilon })).json()) as Answer;
      expect(real.accuracy.count!.ci![1]).to.equal(inv.accuracy.count!.ci[1]);
      expect(real.budget.epsilon.spent).to.equal(inv.epsilon); // only the real query was charged
    });

    it('counts queries by outcome and ε by dataset in Prometheus', async () => {
      await post({ sql: REGION_SQL, epsilon: 0.5 });
      await post({ sql: 'SELECT * FROM visits' });
      const text = await (await svc.request('GET', '/metrics')).text();
      expect(text).to.match(/dpq_queries_total\{dataset="clinic",outcome="answered"\} 1/);
      expect(text).to.match(/dpq_queries_total\{dataset="unknown",outcome="refused"\} 1/);
      // A caller's dataset name never becomes a label value.
      await post({ sql: REGION_SQL, dataset: 'attacker-chosen-label' });
      const after = await (await svc.request('GET', '/metrics')).text();
      expect(after).to.not.include('attacker-chosen-label');
      expect(after).to.match(/dpq_queries_total\{dataset="unknown",outcome="refused"\} 2/);
      expect(text).to.match(/dpq_epsilon_spent_total\{dataset="clinic"\} 0\.5/);
      expect(text).to.include('dpq_query_duration_seconds_bucket');
    });

    it('audits answered, cached and refused queries without literal values', async () => {
      await post({ sql: "SELECT COUNT(*) FROM visits WHERE diagnosis = 'F41.1'", epsilon: 0.5 });
      await post({ sql: "SELECT COUNT(*) FROM visits WHERE diagnosis = 'F41.1'", epsilon: 0.5 });
      await post({ sql: "SELECT notes FROM visits WHERE diagnosis = 'F41.1'" });
      const log = (await (await svc.request('GET', '/v1/audit', { principal: 'carol' })).json()) as { entries: { outcome: string; sqlRedacted: string | null; epsilon: number | null }[] };
      expect(log.entries.map((e) => e.outcome)).to.deep.equal(['ok', 'answered', 'cached', 'refused']);
      const text = JSON.stringify(log);
      expect(text).to.not.include('F41.1');
      expect(log.entries[0]!.sqlRedacted).to.equal('SELECT COUNT(*) FROM visits WHERE diagnosis = $1');
      // The fingerprint shown is blind to literals, so a literal cannot be brute-forced back from it.
      await post({ sql: "SELECT COUNT(*) FROM visits WHERE diagnosis = 'I10'", epsilon: 0.5 });
      const again = (await (await svc.request('GET', '/v1/audit', { principal: 'carol' })).json()) as { entries: { sqlFingerprint: string | null }[] };
      expect(again.entries.at(-1)!.sqlFingerprint).to.equal(again.entries[0]!.sqlFingerprint);
      expect((await (await svc.request('GET', '/v1/audit/verify', { principal: 'carol' })).json()) as object).to.deep.include({ ok: true, entries: 6 });
      expect((await svc.request('GET', '/v1/audit', { principal: 'alice' })).status).to.equal(403);
    });
  });
}

describe('validation refusals never reach the warehouse (pg_stat_statements)', function () {
  this.timeout(120_000);
  let svc: TestService;
  before(async () => {
    svc = await startService('pg');
    const c = new pg.Client({ connectionString: svc.env.DATABASE_URL });
    await c.connect();
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await c.end();
  });
  after(async () => svc?.stop());

  async function warehouseCalls(): Promise<number> {
    const c = new pg.Client({ connectionString: svc.env.DATABASE_URL });
    await c.connect();
    try {
      const r = await c.query<{ n: string | null }>(
        `SELECT sum(calls)::text AS n FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
         WHERE d.datname = current_database() AND (s.query ~* 'visits|patients|pg_index')`,
      );
      return Number(r.rows[0]!.n ?? 0);
    } finally {
      await c.end();
    }
  }

  it('refuses hostile SQL at validation: no statement on the dataset tables, no charge', async () => {
    // A fresh service: not even the catalog has been read yet.
    const before = await warehouseCalls();
    for (const sql of ['SELECT * FROM visits', 'SELECT COUNT(*) FROM visits; DROP TABLE visits', 'SELECT SUM(cost*2) FROM visits', 'SELECT COUNT(*) FROM visits WHERE cost > pg_sleep(1)', 'SELEC 1', 'SELECT COUNT(*) FILTER (WHERE region IN (SELECT region FROM visits)) FROM visits', "SELECT CASE WHEN cost < 100 THEN diagnosis ELSE 'x' END, COUNT(*) FROM visits GROUP BY 1", 'SELECT SUM(CASE WHEN cost > 100 THEN cost ELSE 0 END) FROM visits']) {
      const res = await svc.request('POST', '/v1/queries', { principal: 'alice', body: { sql } });
      expect(res.status, sql).to.be.oneOf([400, 422]);
    }
    expect(await warehouseCalls()).to.equal(before);
    // Positive control: an allowed query does show up.
    expect((await svc.request('POST', '/v1/queries', { principal: 'alice', body: { sql: 'SELECT COUNT(*) FROM visits' } })).status).to.equal(200);
    expect(await warehouseCalls()).to.be.greaterThan(before);
    const b = (await (await svc.request('GET', '/v1/budget', { principal: 'alice' })).json()) as { budgets: { epsilon: { spent: number } }[] };
    expect(b.budgets[0]!.epsilon.spent).to.equal(0.5);
  });
});

describe('estimate checks the accounts the charge checks (pglite)', function () {
  this.timeout(60_000);
  it("answers allowed: false when the dataset's total, not the caller's budget, is what runs out", async () => {
    const dir = policyDir({ 'clinic.yaml': (t) => t.replace('total:   { epsilon: 200, delta: 1.0e-5 }', 'total: { epsilon: 1, delta: 1.0e-5 }') });
    const svc = await startService('pglite', { env: { DPQ_POLICY_DIR: dir } });
    try {
      expect((await svc.request('POST', '/v1/queries', { principal: 'alice', body: { sql: 'SELECT COUNT(*) FROM visits', epsilon: 0.8 } })).status).to.equal(200);
      const est = (await (await svc.request('POST', '/v1/queries/estimate', { principal: 'sam', body: { sql: 'SELECT COUNT(*) FROM visits', epsilon: 0.5 } })).json()) as { allowed: boolean; reason?: string; budget: { epsilon: { remaining: number } } };
      expect(est.budget.epsilon.remaining).to.equal(10);
      expect(est).to.deep.include({ allowed: false, reason: "more than the dataset's remaining total budget" });
      const res = await svc.request('POST', '/v1/queries', { principal: 'sam', body: { sql: 'SELECT COUNT(*) FROM visits', epsilon: 0.5 } });
      expect(res.status).to.equal(403);
    } finally {
      await svc.stop();
    }
  });
});
