import { expect } from 'chai';
import pg from 'pg';
import { mintToken } from '../../src/http/auth.ts';
import { startProxy, type Proxy } from '../support/proxy.ts';
import { createDemoDatabase, spawnServer, startService, TEST_JWT_SECRET, type TestService } from '../support/service.ts';

async function sql<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

async function spent(svc: TestService): Promise<number> {
  const b = (await (await svc.request('GET', '/v1/budget', { principal: 'alice' })).json()) as { budgets: { epsilon: { spent: number } }[] };
  return b.budgets[0]!.epsilon.spent;
}

/** Hold an ACCESS EXCLUSIVE lock on visits until `release` is called: queries on it block. */
async function lockVisits(url: string): Promise<{ release: () => Promise<void> }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('BEGIN');
  await c.query('LOCK TABLE visits IN ACCESS EXCLUSIVE MODE');
  return {
    release: async () => {
      await c.query('ROLLBACK');
      await c.end();
    },
  };
}

describe('faults after the charge (pg)', function () {
  this.timeout(120_000);

  it('a warehouse timeout is 502 QUERY_FAILED with one fixed message, still charged and audited', async () => {
    const svc = await startService('pg', { env: { DPQ_STATEMENT_TIMEOUT_MS: '300' } });
    try {
      await svc.request('POST', '/v1/queries/estimate', { principal: 'alice', body: { sql: 'SELECT COUNT(*) FROM visits' } });
      const lock = await lockVisits(svc.env.DATABASE_URL!);
      const res = await svc.request('POST', '/v1/queries', { principal: 'alice', body: { sql: 'SELECT COUNT(*) FROM visits', epsilon: 1 } });
      await lock.release();
      expect(res.status).to.equal(502);
      const body = (await res.json()) as { error: { code: string; message: string; details?: unknown } };
      expect(body.error).to.deep.equal({ code: 'QUERY_FAILED', message: 'The warehouse failed the query after its privacy cost was spent.' });
      expect(await spent(svc)).to.equal(1);
      const log = (await (await svc.request('GET', '/v1/audit', { principal: 'carol' })).json()) as { entries: { outcome: string; code: string | null; details: Record<string, unknown> }[] };
      const failed = log.entries.find((e) => e.outcome === 'failed')!;
      expect(failed.code).to.equal('QUERY_FAILED');
      expect(JSON.stringify(log)).to.not.match(/canceling statement|statement timeout/i);
    } finally {
      await svc.stop();
    }
  });

  it('a warehouse that cannot be reached is 503 UNAVAILABLE and the reservation is refunded', async () => {
    const direct = await createDemoDatabase();
    const url = new URL(direct);
    const proxy: Proxy = await startProxy(Number(url.port));
    url.port = String(proxy.port);
    const svc = await startService('pg', { env: { DATABASE_URL: url.toString(), DPQ_STATE_URL: direct } });
    try {
      await proxy.down();
      const res = await svc.request('POST', '/v1/queries', { principal: 'alice', body: { sql: 'SELECT COUNT(*) FROM visits', epsilon: 1 } });
      expect(res.status).to.equal(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('UNAVAILABLE');
      expect(await spent(svc)).to.equal(0);
      const events = await sql<{ kind: string }>(direct, 'SELECT kind FROM dpq.budget_events ORDER BY id');
      expect(events.map((e) => e.kind)).to.deep.equal(['query', 'refund']);
      // The refund's audit entry carries minus the charge and names it: the log still sums to the ledger.
      const log = (await (await svc.request('GET', '/v1/audit?limit=100', { principal: 'carol' })).json()) as { entries: { seq: number; action: string; outcome: string; epsilon: number | null; details: Record<string, unknown> | null }[] };
      const query = log.entries.filter((e) => e.action === 'query');
      expect(query.map((e) => [e.outcome, e.epsilon])).to.deep.equal([['ok', 1], ['failed', -1]]);
      expect(query[1]!.details).to.deep.include({ refunded: true, chargedBy: query[0]!.seq });
      expect(await (await svc.request('GET', '/v1/audit/verify', { principal: 'carol' })).json()).to.deep.include({ ok: true });
      await proxy.up();
      expect((await svc.request('POST', '/v1/queries', { principal: 'alice', body: { sql: 'SELECT COUNT(*) FROM visits', epsilon: 1 } })).status).to.equal(200);
    } finally {
      await svc.stop();
      await proxy.close();
    }
  });

  it('a state store that cannot be reached is 503 UNAVAILABLE and nothing is answered', async () => {
    const direct = await createDemoDatabase();
    const url = new URL(direct);
    const proxy = await startProxy(Number(url.port));
    url.port = String(proxy.port);
    const svc = await startService('pg', { env: { DATABASE_URL: direct, DPQ_STATE_URL: url.toString() } });
    try {
      await proxy.down();
      const res = await svc.request('POST', '/v1/queries', { principal: 'alice', body: { sql: 'SELECT COUNT(*) FROM visits', epsilon: 1 } });
      expect(res.status).to.equal(503);
      const body = (await res.json()) as { error: { code: string }; rows?: unknown };
      expect(body.error.code).to.equal('UNAVAILABLE');
      expect(body.rows).to.equal(undefined);
    } finally {
      await proxy.close();
      await svc.stop();
    }
  });

  it('a client that disconnects mid-query is still charged', async () => {
    const svc = await startService('pg');
    try {
      await svc.request('POST', '/v1/queries/estimate', { principal: 'alice', body: { sql: 'SELECT COUNT(*) FROM visits' } });
      const lock = await lockVisits(svc.env.DATABASE_URL!);
      const abort = new AbortController();
      const token = await svc.token('alice');
      const pending = fetch(`${svc.url}/v1/queries`, {
        method: 'POST',
        signal: abort.signal,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sql: 'SELECT COUNT(*) FROM visits', epsilon: 1 }),
      }).catch(() => 'aborted');
      // Wait until the charge is committed, then hang up.
      for (let i = 0; i < 100 && (await sql(svc.env.DATABASE_URL!, 'SELECT 1 FROM dpq.budget_events')).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      abort.abort();
      expect(await pending).to.equal('aborted');
      await lock.release();
      for (let i = 0; i < 100 && (await sql(svc.env.DATABASE_URL!, `SELECT 1 FROM dpq.audit_log WHERE entry LIKE '%"outcome":"answered"%'`)).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await spent(svc)).to.equal(1);
    } finally {
      await svc.stop();
    }
  });

  it('a server killed mid-request leaves ledger and audit consistent', async () => {
    const db = await createDemoDatabase();
    const env = { DATABASE_URL: db, DPQ_JWT_SECRET: TEST_JWT_SECRET, DPQ_TOKEN_KEY: '33'.repeat(32), LOG_LEVEL: 'error' };
    const server = await spawnServer(env);
    const token = await mintToken(new TextEncoder().encode(TEST_JWT_SECRET), 'alice');
    const fire = (i: number): Promise<unknown> =>
      fetch(`${server.url}/v1/queries`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sql: `SELECT region, COUNT(*) FROM visits WHERE cost > ${i} GROUP BY region`, epsilon: 0.1 }),
      }).catch(() => undefined);
    const inflight = Array.from({ length: 40 }, (_, i) => fire(i));
    // Kill while requests are between charge and answer.
    for (let i = 0; i < 200 && (await sql(db, "SELECT 1 FROM dpq.budget_events WHERE kind = 'query'")).length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    await server.stop('SIGKILL');
    await Promise.all(inflight);
    const [ledger] = await sql<{ events: string; spent: string }>(
      db,
      `SELECT (SELECT count(*) FROM dpq.budget_events WHERE kind = 'query')::text AS events,
              (SELECT coalesce(sum(eps_micro), 0) FROM dpq.budget_events)::text AS spent`,
    );
    const [audit] = await sql<{ charged: string; eps: string }>(
      db,
      `SELECT count(*)::text AS charged, coalesce(sum((entry::json->>'epsilon')::numeric * 1000000), 0)::bigint::text AS eps
       FROM dpq.audit_log WHERE entry::json->'details'->>'stage' = 'charged'`,
    );
    expect(Number(ledger!.events)).to.be.within(3, 39);
    expect(audit!.charged).to.equal(ledger!.events);
    expect(audit!.eps).to.equal(ledger!.spent);
    const [account] = await sql<{ eps: string | null }>(db, `SELECT eps_micro::text AS eps FROM dpq.budget_accounts WHERE principal = 'alice'`);
    expect(account?.eps ?? '0').to.equal(ledger!.spent);
  });
});
