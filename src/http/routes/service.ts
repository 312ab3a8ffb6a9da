/** `/healthz`, `/readyz`, `/metrics`: the service's own endpoints, without authentication. */
import { Router } from 'express';
import type { Services } from '../../services.ts';

export function serviceRoutes(services: Services): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const check = async (f: () => Promise<void>): Promise<'ok' | 'unavailable'> => {
      try {
        await f();
        return 'ok';
      } catch {
        return 'unavailable';
      }
    };
    const [warehouse, state] = await Promise.all([check(() => services.warehouse.ping()), check(() => services.state.ping())]);
    const ready = warehouse === 'ok' && state === 'ok';
    // `noise: "seeded"` says that answers are predictable from DPQ_NOISE_SEED (tests and demos only).
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', warehouse, state, noise: services.rng.kind });
  });
  r.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', services.telemetry.registry.contentType);
    res.send(await services.telemetry.registry.metrics());
  });
  return r;
}
