/**
 * PostgreSQL stopped (`pg_ctl -m immediate stop`) while a query is in flight, then started again:
 * on the state-store path and on the warehouse path, the request is answered (503, or 502 once its
 * cost is spent), the service process stays up, and it answers again once the database is back.
 * Each case runs on a throw-away cluster of its own, so the run's shared cluster is never stopped.
 */
import { expect } from 'chai';
import pg from 'pg';
import { mintToken } from '../../src/http/auth.ts';
import { loadDemo } from '../../src/warehouse/demo.ts';
import { startPostgres, type Cluster } from '../support/postgres.ts';
import { createDemoDatabase, spawnServer, TEST_DEMO_PATIENTS, TEST_JWT_SECRET, type ServerProcess } from '../support/service.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined); // this client is killed with its server on purpose
  await c.connect();
  return c;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = await connect(url);
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Poll `check` (up to ~2 minutes, however slow the machine) until it is true. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`gave up waiting: ${what}`);
}

/** A connection holding an ACCESS EXCLUSIVE lock on `table` (until its server goes away). */
async function lockTable(url: string, table: string): Promise<pg.Client> {
  const c = await connect(url);
  await c.query('BEGIN');
  await c.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return c;
}

/** True once a backend of `application` waits for a lock inside a multi-statement transaction. */
async function blockedInTransaction(url: string, application: string): Promise<boolean> {
  const rows = await withClient(url, async (c) =>
    (
      await c.query(
        `SELECT 1 FROM pg_stat_activity
          WHERE application_name = $1 AND state = 'active' AND wait_event_type = 'Lock' AND xact_start < query_start`,
        [application],
      )
    ).rows,
  );
  return rows.length > 0;
}

describe('PostgreSQL stopped and started while a query runs (pg)', function () {
  this.timeout(300_000);
  let cluster: Cluster | undefined;
  let server: ServerProcess | undefined;

  afterEach(async () => {
    await server?.stop();
    await cluster?.stop();
    server = undefined;
    cluster = undefined;
  });

  const token = (): Promise<string> => mintToken(new TextEncoder().encode(TEST_JWT_SECRET), 'alice');
  let n = 0;
  /** A query never asked before (a replay would not read the warehouse). */
  const query = async (url: string): Promise<Response> =>
    fetch(`${url}/v1/queries`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql: `SELECT COUNT(*) FROM visits WHERE cost > ${++n}`, epsilon: 0.1 }),
    });

  async function start(env: Record<string, string>): Promise<ServerProcess> {
    const s = await spawnServer({ ...env, DPQ_JWT_SECRET: TEST_JWT_SECRET, DPQ_TOKEN_KEY: '44'.repeat(32), LOG_LEVEL: 'error' });
    expect((await query(s.url)).status, s.output()).to.equal(200); // warm: pools, catalog lookups
    return s;
  }

  /** Crash the cluster under a request that `blocked` says is in flight; check the answer and recovery. */
  async function crashUnder(s: ServerProcess, c: Cluster, blocked: () => Promise<boolean>, allowed: Record<number, string>): Promise<void> {
    const pending = query(s.url).then(
      async (r) => ({ status: r.status, body: (await r.json()) as { error?: { code: string; message: string } } }),
      (err: unknown) => ({ status: 0, body: { error: { code: String(err), message: '' } } }),
    );
    await eventually('the query to block in its transaction', blocked);
    c.crash();
    const answer = await pending;
    expect(Object.keys(allowed).map(Number), `${JSON.stringify(answer)}\n${s.output()}`).to.include(answer.status);
    expect(answer.body.error?.code).to.equal(allowed[answer.status]);
    expect(JSON.stringify(answer.body)).to.not.match(/terminat|administrator|shutdown/i);
    expect(s.child.exitCode, s.output()).to.equal(null);
    expect((await fetch(`${s.url}/healthz`)).status).to.equal(200);

    c.restart();
    await eventually('/readyz to answer 200 again', async () => (await fetch(`${s.url}/readyz`)).status === 200);
    await eventually('a query to be answered again', async () => (await query(s.url)).status === 200);
    expect(s.child.exitCode, s.output()).to.equal(null);
    expect(s.output()).to.not.match(/Unhandled|uncaught/i);
  }

  it('the state store stopped mid-transaction: 503 UNAVAILABLE, the process stays up and recovers', async () => {
    cluster = await startPostgres();
    await withClient(cluster.url, (c) => c.query('CREATE DATABASE dpq_state'));
    const stateUrl = cluster.urlFor('dpq_state');
    server = await start({ DATABASE_URL: await createDemoDatabase(), DPQ_STATE_URL: stateUrl });
    // Every charge appends to the audit chain under its head row: hold that table.
    await lockTable(stateUrl, 'dpq.audit_head');
    await crashUnder(server, cluster, () => blockedInTransaction(stateUrl, 'dpq-state'), { 503: 'UNAVAILABLE' });
  });

  it('the warehouse stopped mid-read: 502 QUERY_FAILED (or 503), the process stays up and recovers', async () => {
    cluster = await startPostgres();
    await withClient(cluster.url, (c) => c.query('CREATE DATABASE dpq_demo'));
    const warehouseUrl = cluster.urlFor('dpq_demo');
    await withClient(warehouseUrl, (c) => loadDemo(c, { patients: TEST_DEMO_PATIENTS }));
    // A statement timeout must not end the read before the crash does.
    server = await start({ DATABASE_URL: warehouseUrl, DPQ_STATE_URL: await createDemoDatabase(), DPQ_STATEMENT_TIMEOUT_MS: '3600000' });
    await lockTable(warehouseUrl, 'visits');
    await crashUnder(server, cluster, () => blockedInTransaction(warehouseUrl, 'dpq-warehouse'), { 502: 'QUERY_FAILED', 503: 'UNAVAILABLE' });
  });
});
