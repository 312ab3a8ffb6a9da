/**
 * Small DP queries end to end (HTTP, auth, validation, ledger, audit, warehouse, noise) against a
 * dpq server process on the demo dataset, at 1, 8 and 32 concurrent clients; cached replays; and
 * pgbench's TPC-B (a write-heavy transaction mix) on the same PostgreSQL server in the same run,
 * as the reference; a bare `GET /healthz` as the reference of replays; the dpq process's resident
 * memory (peak under the 32-client load, and at start and end of a soak of mixed queries).
 */
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { mintToken } from '../src/http/auth.ts';
import { loadDemo } from '../src/warehouse/demo.ts';
import { findPgBin } from '../test/support/postgres.ts';
import { spawnServer } from '../test/support/service.ts';
import { type BenchContext, type BenchRow, closedLoop, percentile, queryPoster, residentMemory, unlimitedBudgetPolicy } from './types.ts';

const SECONDS = 8;
const SECRET = 'bench-secret-bench-secret-bench-secret-00';

async function exec(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function pgbench(ctx: BenchContext, url: string, clients: number): number {
  const bin = findPgBin('pgbench');
  if (bin === undefined) throw new Error('pgbench not found');
  const u = new URL(url);
  const args = ['-h', u.hostname, '-p', u.port, '-U', 'postgres'];
  const db = u.pathname.slice(1);
  const init = spawnSync(bin, [...args, '-i', '-s', '10', '-q', db], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);
  const run = spawnSync(bin, [...args, '-c', String(clients), '-j', '2', '-T', String(SECONDS), '-M', 'prepared', db], { encoding: 'utf8' });
  const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(run.stdout);
  if (m === null) throw new Error(`pgbench output not understood: ${run.stdout}${run.stderr}`);
  ctx.log(`pgbench -c ${clients}: ${m[1]} tps`);
  return Number(m[1]);
}

/**
 * Statements and transactions PostgreSQL ran per call of `call` (state store and warehouse, the same
 * database here), counted by pg_stat_statements over `n` sequential calls: figures the machine's
 * load does not change.
 */
async function roundTrips(url: string, n: number, call: (i: number) => Promise<boolean>): Promise<{ statements: number; transactions: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await c.query('SELECT pg_stat_statements_reset()');
    let ok = 0;
    for (let i = 0; i < n; i++) if (await call(i)) ok++;
    const { rows } = await c.query<{ statements: string; transactions: string }>(
      `SELECT coalesce(sum(calls), 0) AS statements, coalesce(sum(calls) FILTER (WHERE query ILIKE 'COMMIT%'), 0) AS transactions
       FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND query NOT ILIKE '%pg_stat_statements%'`,
    );
    return { statements: Number(rows[0]!.statements) / ok, transactions: Number(rows[0]!.transactions) / ok };
  } finally {
    await c.end();
  }
}

/** Peak RSS so far (the 32-client loads ran), then RSS at start and end of a soak of mixed queries at 8 clients. */
async function memoryRows(ctx: BenchContext, pid: number, post: (sql: string) => Promise<boolean>, next: () => number): Promise<BenchRow[]> {
  const peak = residentMemory(pid);
  if (peak === undefined) return [];
  const rows: BenchRow[] = [{ scenario: 'dpq memory', figure: 'peak RSS, after the 32-client loads', value: peak.peak, unit: 'MiB' }];
  const mixed = [
    (i: number) => `SELECT COUNT(*) FROM patients WHERE birth_year > ${1900 + (i % 100_000)}`,
    (i: number) => `SELECT region, COUNT(*), AVG(cost) FROM visits WHERE cost > ${i % 1_000_000} GROUP BY region`,
    () => 'SELECT region, COUNT(*) FROM visits GROUP BY region',
    (i: number) => `SELECT sex, COUNT(*) FROM patients WHERE birth_year < ${2026 - (i % 100)} GROUP BY sex`,
  ];
  const start = residentMemory(pid)!;
  const soak = await closedLoop(8, ctx.soakSeconds, (i) => post(mixed[i % mixed.length]!(next())));
  const end = residentMemory(pid)!;
  ctx.log(`soak ${ctx.soakSeconds} s: ${soak.ok} answered; RSS ${start.rss.toFixed(0)} → ${end.rss.toFixed(0)} MiB (peak ${end.peak.toFixed(0)})`);
  const scenario = `dpq memory, ${ctx.soakSeconds} s soak of mixed queries (8 clients)`;
  rows.push({ scenario, figure: 'RSS at start', value: start.rss, unit: 'MiB' });
  rows.push({ scenario, figure: 'RSS at end', value: end.rss, unit: 'MiB', reference: { scenario, figure: 'RSS at start' } });
  return rows;
}

export default async function queriesBench(ctx: BenchContext): Promise<BenchRow[]> {
  const { cluster } = ctx;
  await exec(cluster.url, 'CREATE DATABASE bench_dpq');
  await exec(cluster.url, 'CREATE DATABASE bench_pgbench');
  const url = cluster.urlFor('bench_dpq');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  ctx.log('loading the demo dataset (20,000 patients)');
  await loadDemo(client);
  await client.end();

  const policy = unlimitedBudgetPolicy();
  const server = await spawnServer({ DATABASE_URL: url, DPQ_JWT_SECRET: SECRET, DPQ_TOKEN_KEY: '44'.repeat(32), DPQ_POLICY_DIR: policy, DPQ_RATE_LIMIT: '0', LOG_LEVEL: 'error' });
  const token = await mintToken(new TextEncoder().encode(SECRET), 'alice');
  const post = queryPoster(server.url, token);

  const rows: BenchRow[] = [];
  const tps8 = pgbench(ctx, cluster.urlFor('bench_pgbench'), 8);
  const tps32 = pgbench(ctx, cluster.urlFor('bench_pgbench'), 32);
  const pgRef = { scenario: 'pgbench TPC-B', figure: 'tps, 8 clients' };
  rows.push({ scenario: 'pgbench TPC-B', figure: 'tps, 8 clients', value: tps8, unit: 'tx/s' });
  rows.push({ scenario: 'pgbench TPC-B', figure: 'tps, 32 clients', value: tps32, unit: 'tx/s' });

  let seq = 0;
  try {
    // A small DP query: one filtered count on the patients table (keyed by the unit: no bounding sort).
    await post('SELECT COUNT(*) FROM patients WHERE birth_year > 1900'); // warm-up
    for (const clients of [1, 8, 32]) {
      const r = await closedLoop(clients, SECONDS, () => post(`SELECT COUNT(*) FROM patients WHERE birth_year > ${1900 + (seq++ % 100_000)} AND sex = 'F'`));
      ctx.log(`small DP query, ${clients} clients: ${r.ok} answered, ${r.rate.toFixed(0)}/s`);
      const scenario = `small DP query, ${clients} client${clients > 1 ? 's' : ''}`;
      rows.push({ scenario, figure: 'throughput', value: r.rate, unit: 'queries/s', reference: pgRef });
      rows.push({ scenario, figure: 'p50 latency', value: percentile(r.latencies, 0.5), unit: 'ms' });
      rows.push({ scenario, figure: 'p99 latency', value: percentile(r.latencies, 0.99), unit: 'ms' });
    }
    // The demo's typical query: GROUP BY region over 194k visits (bounding sort included).
    const grouped = await closedLoop(8, SECONDS, () => post(`SELECT region, COUNT(*), AVG(cost) FROM visits WHERE cost > ${seq++ % 1_000_000} GROUP BY region`));
    rows.push({ scenario: 'GROUP BY query on visits, 8 clients', figure: 'throughput', value: grouped.rate, unit: 'queries/s', reference: pgRef });
    rows.push({ scenario: 'GROUP BY query on visits, 8 clients', figure: 'p50 latency', value: percentile(grouped.latencies, 0.5), unit: 'ms' });

    // Cached replays: the same request again and again.
    await post('SELECT region, COUNT(*) FROM visits GROUP BY region');
    const cached = await closedLoop(32, SECONDS, () => post('SELECT region, COUNT(*) FROM visits GROUP BY region'));
    const health = await closedLoop(32, SECONDS, async () => (await fetch(`${server.url}/healthz`).then(async (r) => (await r.arrayBuffer(), r.ok))));
    const healthRef = { scenario: 'bare GET /healthz, 32 clients', figure: 'throughput' };
    rows.push({ scenario: healthRef.scenario, figure: 'throughput', value: health.rate, unit: 'requests/s' });
    rows.push({ scenario: 'cached replay, 32 clients', figure: 'throughput', value: cached.rate, unit: 'replays/s', reference: healthRef });
    rows.push({ scenario: 'cached replay, 32 clients', figure: 'p50 latency', value: percentile(cached.latencies, 0.5), unit: 'ms' });
    const small = await roundTrips(url, 50, () => post(`SELECT COUNT(*) FROM patients WHERE birth_year > ${1900 + (seq++ % 100_000)} AND sex = 'F'`));
    const replays = await roundTrips(url, 50, () => post('SELECT region, COUNT(*) FROM visits GROUP BY region'));
    ctx.log(`per answered query: ${small.statements} statements, ${small.transactions} commits; per replay: ${replays.statements}, ${replays.transactions}`);
    rows.push({ scenario: 'small DP query, 1 client', figure: 'statements per answer', value: small.statements, unit: 'statements' });
    rows.push({ scenario: 'small DP query, 1 client', figure: 'commits per answer', value: small.transactions, unit: 'transactions' });
    rows.push({ scenario: 'cached replay, 1 client', figure: 'statements per replay', value: replays.statements, unit: 'statements' });
    rows.push({ scenario: 'cached replay, 1 client', figure: 'commits per replay', value: replays.transactions, unit: 'transactions' });
    rows.push(...(await memoryRows(ctx, server.child.pid!, post, () => seq++)));
  } finally {
    await server.stop();
  }
  return rows;
}
