/**
 * The PostgreSQL wire protocol next to HTTP on one dpq server process: the same small charged
 * query (a distinct filtered count per call, so every call is a fresh release) and the same cached
 * replay, at 1 and 8 concurrent clients. HTTP clients POST /v1/queries; wire clients are
 * node-postgres connections (one per client, opened before the clock starts) sending the SQL as a
 * simple query. Each pgwire row's ratio is to the HTTP row of the same figure.
 */
import pg from 'pg';
import { mintToken } from '../src/http/auth.ts';
import { loadDemo } from '../src/warehouse/demo.ts';
import { freePort } from '../test/support/postgres.ts';
import { spawnServer } from '../test/support/service.ts';
import { type BenchContext, type BenchRow, closedLoop, percentile, queryPoster, unlimitedBudgetPolicy } from './types.ts';

const SECONDS = 6;
const SECRET = 'bench-secret-bench-secret-bench-secret-00';

export default async function pgwireBench(ctx: BenchContext): Promise<BenchRow[]> {
  const admin = new pg.Client({ connectionString: ctx.cluster.url });
  await admin.connect();
  await admin.query('CREATE DATABASE bench_pgwire');
  await admin.end();
  const url = ctx.cluster.urlFor('bench_pgwire');
  const loader = new pg.Client({ connectionString: url });
  await loader.connect();
  ctx.log('loading the demo dataset (20,000 patients)');
  await loadDemo(loader);
  await loader.end();

  const pgPort = await freePort();
  const server = await spawnServer({ DATABASE_URL: url, DPQ_JWT_SECRET: SECRET, DPQ_TOKEN_KEY: '44'.repeat(32), DPQ_POLICY_DIR: unlimitedBudgetPolicy(), DPQ_RATE_LIMIT: '0', LOG_LEVEL: 'error', DPQ_PG_PORT: String(pgPort) });
  const token = await mintToken(new TextEncoder().encode(SECRET), 'alice');
  const post = queryPoster(server.url, token);
  const connections: pg.Client[] = [];
  const connect = async (n: number): Promise<pg.Client[]> => {
    while (connections.length < n) {
      const c = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'alice', password: token, database: 'clinic' });
      await c.connect();
      await c.query('SET dpq.epsilon = 0.1');
      connections.push(c);
    }
    return connections.slice(0, n);
  };

  /** One call on a connection no other loop is using (as many connections as loops). */
  const onFree = (conns: pg.Client[], sql: () => string, rowsExpected: number): (() => Promise<boolean>) => {
    const free = [...conns];
    return async () => {
      const c = free.pop()!;
      try {
        return (await c.query(sql())).rows.length === rowsExpected;
      } finally {
        free.push(c);
      }
    };
  };

  const rows: BenchRow[] = [];
  let seq = 0;
  const charged = (): string => `SELECT COUNT(*) FROM patients WHERE birth_year > ${1900 + (seq++ % 100_000)} AND sex = 'F'`;
  const replay = 'SELECT region, COUNT(*) FROM visits GROUP BY region';
  const add = (scenario: string, transport: 'HTTP' | 'pgwire', r: { rate: number; latencies: number[] }): void => {
    const name = `${scenario}, ${transport}`;
    const ref = (figure: string): { scenario: string; figure: string } | undefined => (transport === 'pgwire' ? { scenario: `${scenario}, HTTP`, figure } : undefined);
    rows.push({ scenario: name, figure: 'throughput', value: r.rate, unit: 'queries/s', ...(transport === 'pgwire' ? { reference: ref('throughput')! } : {}) });
    rows.push({ scenario: name, figure: 'p50 latency', value: percentile(r.latencies, 0.5), unit: 'ms', ...(transport === 'pgwire' ? { reference: ref('p50 latency')! } : {}) });
    rows.push({ scenario: name, figure: 'p99 latency', value: percentile(r.latencies, 0.99), unit: 'ms', ...(transport === 'pgwire' ? { reference: ref('p99 latency')! } : {}) });
    ctx.log(`${name}: ${r.rate.toFixed(0)}/s, p50 ${percentile(r.latencies, 0.5).toFixed(2)} ms`);
  };
  try {
    await post(charged());
    await (await connect(1))[0]!.query(charged()); // warm-up of both doors
    for (const clients of [1, 8]) {
      const scenario = `small charged query, ${clients} client${clients > 1 ? 's' : ''}`;
      add(scenario, 'HTTP', await closedLoop(clients, SECONDS, () => post(charged())));
      add(scenario, 'pgwire', await closedLoop(clients, SECONDS, onFree(await connect(clients), charged, 1)));
    }
    await post(replay);
    for (const clients of [1, 8]) {
      const scenario = `cached replay, ${clients} client${clients > 1 ? 's' : ''}`;
      add(scenario, 'HTTP', await closedLoop(clients, SECONDS, () => post(replay)));
      add(scenario, 'pgwire', await closedLoop(clients, SECONDS, onFree(await connect(clients), () => replay, 4)));
    }
  } finally {
    for (const c of connections) await c.end().catch(() => undefined);
    await server.stop();
  }
  return rows;
}
