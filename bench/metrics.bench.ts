/**
 * Reads of a cached noisy metric (API-key authentication, one release per period) at 32
 * concurrent clients against a dpq server process, next to the service's bare /healthz as the
 * reference for the HTTP stack's own cost.
 */
import pg from 'pg';
import { loadDemo } from '../src/warehouse/demo.ts';
import { spawnServer } from '../test/support/service.ts';
import { type BenchContext, type BenchRow, closedLoop, percentile } from './types.ts';

const SECONDS = 8;

export default async function metricsBench(ctx: BenchContext): Promise<BenchRow[]> {
  const admin = new pg.Client({ connectionString: ctx.cluster.url });
  await admin.connect();
  await admin.query('CREATE DATABASE bench_metrics');
  await admin.end();
  const url = ctx.cluster.urlFor('bench_metrics');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await loadDemo(c);
  await c.end();
  const server = await spawnServer({ DATABASE_URL: url, DPQ_TOKEN_KEY: '66'.repeat(32), DPQ_RATE_LIMIT: '0', LOG_LEVEL: 'error' });
  const get = async (path: string): Promise<boolean> => {
    const r = await fetch(`${server.url}${path}`, { headers: { authorization: 'Bearer dpq_demo_dashboard_key' } });
    await r.arrayBuffer();
    return r.status === 200;
  };
  try {
    await get('/v1/metrics/visits_by_region');
    const health = await closedLoop(32, SECONDS, () => get('/healthz'));
    const metric = await closedLoop(32, SECONDS, () => get('/v1/metrics/visits_by_region'));
    ctx.log(`metric reads: ${metric.rate.toFixed(0)}/s, healthz: ${health.rate.toFixed(0)}/s`);
    const ref = { scenario: 'GET /healthz, 32 clients', figure: 'throughput' };
    return [
      { scenario: 'GET /healthz, 32 clients', figure: 'throughput', value: health.rate, unit: 'requests/s' },
      { scenario: 'cached metric read, 32 clients', figure: 'throughput', value: metric.rate, unit: 'reads/s', reference: ref },
      { scenario: 'cached metric read, 32 clients', figure: 'p50 latency', value: percentile(metric.latencies, 0.5), unit: 'ms' },
      { scenario: 'cached metric read, 32 clients', figure: 'p99 latency', value: percentile(metric.latencies, 0.99), unit: 'ms' },
    ];
  } finally {
    await server.stop();
  }
}
