/**
 * `GET /v1/metrics`, `GET /v1/metrics/:name`, `GET /v1/metrics/:name/history` — for principals
 * holding one of a metric's reader roles. Responses carry an ETag and `Cache-Control: max-age` up
 * to the next release, and a matching `If-None-Match` gets 304.
 */
import { z } from 'zod';
import { readStatus } from '../../budget/ledger.ts';
import { periodOf } from '../../budget/period.ts';
import { forbidden, notFound } from '../../errors.ts';
import { metricAccount, readMetric, releaseHistory, type MetricRelease } from '../../metrics/releases.ts';
import type { Principal } from '../../policy/authorize.ts';
import { formatDuration } from '../../policy/duration.ts';
import type { Metric } from '../../policy/schema.ts';
import type { StoredRelease } from '../../queries/execute.ts';
import type { Services } from '../../services.ts';
import type { RouteModule } from '../app.ts';
import { principalOf } from '../middleware.ts';
import { parseInput } from '../validate.ts';

const canRead = (principal: Principal, metric: Metric): boolean => principal.roles.some((r) => metric.readers.includes(r));

function metricFor(services: Services, principal: Principal, name: string): Metric {
  const metric = Object.hasOwn(services.policy.metrics, name) ? services.policy.metrics[name] : undefined;
  if (metric === undefined) throw notFound(`unknown metric "${name}"`);
  if (!canRead(principal, metric)) throw forbidden(`this principal may not read metric "${name}"`);
  return metric;
}

function present(name: string, r: MetricRelease, stale: boolean): Record<string, unknown> {
  const body = JSON.parse(r.body) as StoredRelease;
  return {
    name,
    id: body.id,
    releasedAt: r.releasedAt.toISOString(),
    nextReleaseAt: stale ? null : r.nextReleaseAt.toISOString(),
    stale,
    columns: body.columns,
    rows: body.rows,
    accuracy: body.accuracy,
    privacy: body.privacy,
  };
}

export const historyQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(20) });
const STALE_MAX_AGE_S = 300;

export const metricRoutes: RouteModule = (router, services) => {
  router.get('/metrics', async (_req, res) => {
    const principal = principalOf(res);
    const now = services.clock.now();
    const metrics = await Promise.all(
      Object.entries(services.policy.metrics)
        .filter(([, m]) => canRead(principal, m))
        .map(async ([name, m]) => {
          const dataset = services.policy.datasets[m.dataset]!;
          const key = { principal: metricAccount(name), dataset: m.dataset, period: periodOf(dataset.budget.renew, now).key };
          return {
            name,
            dataset: m.dataset,
            description: m.description ?? null,
            epsilon: m.epsilon,
            refresh: formatDuration(m.refresh),
            budget: await readStatus(services.state, key, m.budget, dataset.budget.accounting),
          };
        }),
    );
    res.json({ metrics });
  });

  router.get('/metrics/:name', async (req, res) => {
    const name = req.params.name;
    const metric = metricFor(services, principalOf(res), name);
    services.telemetry.metricReads.inc({ metric: name });
    const { release, stale } = await readMetric(services, principalOf(res), name, metric);
    const etag = `"${release.seq}-${stale ? 's' : 'f'}-${name}"`;
    const maxAge = stale ? STALE_MAX_AGE_S : Math.max(0, Math.floor((release.nextReleaseAt.getTime() - services.clock.now().getTime()) / 1000));
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', `private, max-age=${maxAge}`);
    if (req.get('if-none-match')?.split(',').some((t) => t.trim() === etag)) {
      res.status(304).end();
      return;
    }
    res.json(present(name, release, stale));
  });

  router.get('/metrics/:name/history', async (req, res) => {
    const name = req.params.name;
    metricFor(services, principalOf(res), name);
    const q = parseInput(historyQuery, req.query, 'query');
    const releases = await releaseHistory(services.state, name, q.limit);
    res.json({ name, releases: releases.map((r) => present(name, r, false)) });
  });
};
