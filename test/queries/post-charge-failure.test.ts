/**
 * Every failure after the charge is 502 QUERY_FAILED with the fixed message, charged and audited —
 * not only warehouse errors. The faults are injected between the real warehouse and the noise
 * step: the real statement runs on the real database, then its result is damaged (the real
 * decoder throws) or a non-warehouse error is raised, as a bug in decoding or noise would.
 */
import { expect } from 'chai';
import pg from 'pg';
import { DpParameterError } from '../../src/dp/checks.ts';
import type { ResultSet, Warehouse } from '../../src/warehouse/adapter.ts';
import { startService, type TestService } from '../support/service.ts';

type Fault = (result: ResultSet) => ResultSet;

/** The service's warehouse, with `fault` applied to the result of every compiled (WITH …) query. */
function inject(svc: TestService, fault: Fault): void {
  const real = svc.runtime.warehouse;
  const faulty: Warehouse = {
    kind: real.kind,
    ping: () => real.ping(),
    close: () => real.close(),
    read: async (sql, params, options) => {
      const result = await real.read(sql, params, options);
      return sql.startsWith('WITH') ? fault(result) : result;
    },
  };
  (svc.runtime as { warehouse: Warehouse }).warehouse = faulty;
}

const damagedHistogram: Fault = (r) => ({ ...r, rows: r.rows.map((row) => row.map((c) => (typeof c === 'string' && c.includes(':') ? 'not:a:histogram 4711' : c))) });
const dpError: Fault = () => {
  throw new DpParameterError('epsilon', 'raw internal message 4711');
};

interface Entry {
  actor: string;
  action: string;
  outcome: string;
  code: string | null;
  epsilon: number | null;
}

describe('failures after the charge are QUERY_FAILED, whatever the cause', function () {
  this.timeout(120_000);
  let svc: TestService;
  beforeEach(async () => {
    svc = await startService('pglite');
  });
  afterEach(async () => svc?.stop());

  const spent = async (principal = 'alice'): Promise<number> => {
    const b = (await (await svc.request('GET', '/v1/budget', { principal })).json()) as { budgets: { epsilon: { spent: number } }[] };
    return b.budgets[0]!.epsilon.spent;
  };

  for (const [name, fault] of [['a result the decoder cannot read', damagedHistogram], ['a non-warehouse error with a raw message', dpError]] as const) {
    it(`a query: ${name} → 502 QUERY_FAILED, fixed message, charged and audited`, async () => {
      const sql = 'SELECT region, MEDIAN(cost) FROM visits GROUP BY region';
      expect((await svc.request('POST', '/v1/queries', { principal: 'alice', body: { sql, epsilon: 0.5 } })).status, 'positive control').to.equal(200);
      inject(svc, fault);
      const res = await svc.request('POST', '/v1/queries', { principal: 'alice', body: { sql, epsilon: 0.7 } });
      const text = await res.text();
      expect(res.status, text).to.equal(502);
      expect(JSON.parse(text)).to.deep.equal({ error: { code: 'QUERY_FAILED', message: 'The warehouse failed the query after its privacy cost was spent.' } });
      expect(await spent()).to.be.closeTo(1.2, 1e-9);
      const log = (await (await svc.request('GET', '/v1/audit?limit=100', { principal: 'carol' })).json()) as { entries: Entry[] };
      expect(log.entries.filter((e) => e.outcome === 'failed').map((e) => e.code)).to.deep.equal(['QUERY_FAILED']);
      expect(JSON.stringify(log)).to.not.include('4711');
    });
  }

  it('a metric release: a non-warehouse error → 502 QUERY_FAILED with the fixed message, audited', async () => {
    inject(svc, dpError);
    const res = await svc.request('GET', '/v1/metrics/visits_by_region', { principal: 'alice' });
    const text = await res.text();
    expect(res.status, text).to.equal(502);
    expect(JSON.parse(text)).to.deep.equal({ error: { code: 'QUERY_FAILED', message: 'The warehouse failed the query after its privacy cost was spent.' } });
    const log = (await (await svc.request('GET', '/v1/audit?limit=100', { principal: 'carol' })).json()) as { entries: Entry[] };
    expect(log.entries.filter((e) => e.action === 'metric.release' && e.outcome === 'failed').map((e) => e.code)).to.deep.equal(['QUERY_FAILED']);
    expect(JSON.stringify(log)).to.not.include('4711');
  });
});

describe('a statement timeout after the charge (pg)', function () {
  this.timeout(120_000);

  it('of a metric release is 502 QUERY_FAILED with the fixed message, charged and audited', async () => {
    const svc = await startService('pg', { env: { DPQ_STATEMENT_TIMEOUT_MS: '300' } });
    const locker = new pg.Client({ connectionString: svc.env.DATABASE_URL! });
    try {
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE visits IN ACCESS EXCLUSIVE MODE'); // the release waits until its timeout
      const res = await svc.request('GET', '/v1/metrics/visits_by_region', { principal: 'alice' });
      await locker.query('ROLLBACK');
      const text = await res.text();
      expect(res.status, text).to.equal(502);
      expect(JSON.parse(text)).to.deep.equal({ error: { code: 'QUERY_FAILED', message: 'The warehouse failed the query after its privacy cost was spent.' } });
      const log = (await (await svc.request('GET', '/v1/audit?limit=100', { principal: 'carol' })).json()) as { entries: (Entry & { details: Record<string, unknown> | null })[] };
      const metric = log.entries.filter((e) => e.action === 'metric.release');
      expect(metric.map((e) => [e.outcome, e.code])).to.deep.equal([['ok', null], ['failed', 'QUERY_FAILED']]);
      expect(metric[0]!.epsilon).to.equal(0.1); // the charge stays spent
      expect(JSON.stringify(log)).to.not.match(/canceling statement|statement timeout/i);
    } finally {
      await locker.end().catch(() => undefined);
      await svc.stop();
    }
  });
});
