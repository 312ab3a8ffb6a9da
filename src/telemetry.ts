/**
 * Prometheus metrics (prom-client): default process metrics, HTTP requests by route and status,
 * and the domain counters later modules add (queries by outcome, ε spent by dataset, …). One
 * registry per app instance, so tests can run several apps in one process.
 */
import client from 'prom-client';

export interface Telemetry {
  readonly registry: client.Registry;
  readonly httpRequests: client.Counter<'method' | 'route' | 'status'>;
  readonly httpLatency: client.Histogram<'method' | 'route' | 'status'>;
  readonly queries: client.Counter<'dataset' | 'outcome'>;
  readonly queryLatency: client.Histogram<'outcome'>;
  readonly epsilonSpent: client.Counter<'dataset'>;
  readonly metricReleases: client.Counter<'metric'>;
  readonly metricReads: client.Counter<'metric'>;
  readonly metricStale: client.Counter<'metric'>;
}

export function createTelemetry(): Telemetry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const buckets = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  return {
    registry,
    httpRequests: new client.Counter({
      name: 'dpq_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpLatency: new client.Histogram({
      name: 'dpq_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets,
      registers: [registry],
    }),
    queries: new client.Counter({
      name: 'dpq_queries_total',
      help: 'Aggregate queries by outcome (answered, cached, refused, failed)',
      labelNames: ['dataset', 'outcome'],
      registers: [registry],
    }),
    queryLatency: new client.Histogram({
      name: 'dpq_query_duration_seconds',
      help: 'Aggregate query latency by outcome',
      labelNames: ['outcome'],
      buckets,
      registers: [registry],
    }),
    epsilonSpent: new client.Counter({
      name: 'dpq_epsilon_spent_total',
      help: 'ε charged by dataset',
      labelNames: ['dataset'],
      registers: [registry],
    }),
    metricReleases: new client.Counter({
      name: 'dpq_metric_releases_total',
      help: 'New releases of noisy metrics',
      labelNames: ['metric'],
      registers: [registry],
    }),
    metricReads: new client.Counter({
      name: 'dpq_metric_reads_total',
      help: 'Reads of noisy metrics',
      labelNames: ['metric'],
      registers: [registry],
    }),
    metricStale: new client.Counter({
      name: 'dpq_metric_stale_serves_total',
      help: 'Reads served a stale release because the metric budget is spent',
      labelNames: ['metric'],
      registers: [registry],
    }),
  };
}
