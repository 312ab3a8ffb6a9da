/**
 * `GET /v1/metrics`, `GET /v1/metrics/:name`, `GET /v1/metrics/:name/history` — for principals
 * holding one of a metric's reader roles. Responses carry an ETag and `Cache-Control: max-age` up
 * to the next release, and a matching `If-None-Match` gets 304.
 */
import { z } from 'zod';
import { listMetrics, metricFor, presentRelease } from '../../metrics/catalog.ts';
import { readMetric, releaseHistory } from '../../metrics/releases.ts';
import type { RouteModule } from '../app.ts';
import { principalOf } from '../middleware.ts';
import { parseInput } from '../parse-input.ts';

export const historyQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(20) });
const STALE_MAX_AGE_S = 300;

export const metricRoutes: RouteModule = (router, services) => {
  router.get('/metrics', async (_req, res) => {
    const metrics = await listMetrics(services, principalOf(res));
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
    res.json(presentRelease(name, release, stale));
  });

  router.get('/metrics/:name/history', async (req, res) => {
    const name = req.params.name;
    metricFor(services, principalOf(res), name);
    const q = parseInput(historyQuery, req.query, 'query');
    const releases = await releaseHistory(services.state, name, q.limit);
    res.json({ name, releases: releases.map((r) => presentRelease(name, r, false)) });
  });
};
