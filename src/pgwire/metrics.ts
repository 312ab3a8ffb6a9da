/** Prometheus metrics of the wire protocol, on the service's registry (one set per Services). */
import client from 'prom-client';
import type { Telemetry } from '../telemetry.ts';

export interface PgMetrics {
  /** Sessions by outcome: authenticated, refused (credentials, dataset, cleartext), rejected (too many). */
  readonly sessions: client.Counter<'outcome'>;
  readonly open: client.Gauge;
  /** Statements by kind (data, catalog, explain, set, show, noop, …) and outcome (ok, refused, failed, cancelled). */
  readonly statements: client.Counter<'kind' | 'outcome'>;
}

const made = new WeakMap<Telemetry, PgMetrics>();

export function pgMetrics(telemetry: Telemetry): PgMetrics {
  let m = made.get(telemetry);
  if (m === undefined) {
    const registers = [telemetry.registry];
    m = {
      sessions: new client.Counter({ name: 'dpq_pg_sessions_total', help: 'Wire-protocol sessions by outcome', labelNames: ['outcome'], registers }),
      open: new client.Gauge({ name: 'dpq_pg_sessions_open', help: 'Open wire-protocol connections', registers }),
      statements: new client.Counter({ name: 'dpq_pg_statements_total', help: 'Wire-protocol statements by kind and outcome', labelNames: ['kind', 'outcome'], registers }),
    };
    made.set(telemetry, m);
  }
  return m;
}
