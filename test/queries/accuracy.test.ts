import { expect } from 'chai';
import { loadPolicy } from '../../src/policy/load.ts';
import { decodeResult } from '../../src/queries/decode-result.ts';
import { compile, planQuery } from '../../src/sql/index.ts';
import { createPgWarehouse } from '../../src/warehouse/pg.ts';
import { binomialLowerTail } from '../dp/support/stats.ts';
import { policyDir } from '../support/policy.ts';
import { startService, type TestService } from '../support/service.ts';

const SQL = 'SELECT region, COUNT(*) AS n, SUM(cost) AS total FROM visits GROUP BY region';
const RUNS = 200;
const ALPHA = 1e-6;

/**
 * End to end on the demo data: over 200 seeded releases, released counts and sums fall within
 * their reported 95% intervals about 95% of the time — measured against the exact bounded values,
 * so the interval describes the noise, as api.md says. A positive control with intervals 30% too
 * narrow must fail the same test.
 */
describe('reported accuracy holds end to end (pg, seeded)', function () {
  this.timeout(180_000);
  let svc: TestService;
  const coverage = { covered: 0, shrunk: 0, total: 0 };

  before(async () => {
    const dir = policyDir({
      'clinic.yaml': (t) => t.replace('analyst: { epsilon: 10, delta: 1.0e-6 }', 'analyst: { epsilon: 100000, delta: 1.0e-6 }').replace('total:   { epsilon: 200, delta: 1.0e-5 }', 'total: { epsilon: 100000, delta: 1.0e-5 }').replace('cacheTtl: 24h', 'cacheTtl: 0s'),
    });
    svc = await startService('pg', { env: { DPQ_POLICY_DIR: dir, DPQ_NOISE_SEED: 'accuracy-e2e' } });

    // The exact bounded values: the same plan compiled and run without noise.
    const dataset = loadPolicy(dir, {}).policy.datasets.clinic!;
    const plan = await planQuery(SQL, dataset, { delta: 0, dataset: 'clinic' });
    const compiled = compile(plan);
    const w = createPgWarehouse({ url: svc.env.DATABASE_URL!, statementTimeoutMs: 30_000 });
    const groups = decodeResult(plan, compiled, await w.read(compiled.sql, compiled.params));
    await w.close();
    const truth = new Map(groups.map((g) => [String(g.keys[0]), { n: Number(g.values[0]), total: Number(g.values[1]) / 100 }]));

    for (let run = 0; run < RUNS; run++) {
      const res = await svc.request('POST', '/v1/queries', { principal: 'alice', body: { sql: SQL, epsilon: 1 } });
      expect(res.status).to.equal(200);
      const a = (await res.json()) as { rows: { region: string; n: number; total: number }[]; accuracy: Record<'n' | 'total', { ci: [number, number] }> };
      for (const row of a.rows) {
        const t = truth.get(row.region)!;
        for (const col of ['n', 'total'] as const) {
          const err = Math.abs(row[col] - t[col]);
          const half = a.accuracy[col].ci[1];
          coverage.total++;
          if (err <= half + 1e-9) coverage.covered++;
          if (err <= half * 0.7 + 1e-9) coverage.shrunk++;
        }
      }
    }
  });
  after(async () => svc?.stop());

  it(`covers the true value ≥ 95% of the time (binomial test, α = ${ALPHA})`, () => {
    expect(coverage.total).to.equal(RUNS * 8);
    const p = binomialLowerTail(coverage.covered, coverage.total, 0.95);
    expect(p, `covered ${coverage.covered}/${coverage.total}`).to.be.greaterThan(ALPHA);
    expect(coverage.covered / coverage.total).to.be.below(0.99);
  });

  it('positive control: intervals 30% too narrow are rejected by the same test', () => {
    const p = binomialLowerTail(coverage.shrunk, coverage.total, 0.95);
    expect(p, `covered ${coverage.shrunk}/${coverage.total}`).to.be.below(ALPHA);
  });
});
