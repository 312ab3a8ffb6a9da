/**
 * The express app: security headers, request ids, 64 KiB JSON bodies, access logs, the service
 * endpoints, the authenticated `/v1` API, the web console at `/` (console.ts), and the one error
 * handler.
 */
import express, { type Express, Router } from 'express';
import helmet from 'helmet';
import type { Services } from '../services.ts';
import { type ConsoleOptions, consoleRoutes } from './console.ts';
import { errorHandler, notFoundHandler } from './error-handler.ts';
import { openApiDocument } from './openapi.ts';
import { VERSION } from '../version.ts';
import { accessLog, authenticate, bodyTimeout, refuseNul, refuseOptions, requestId } from './middleware.ts';
import { rateLimit, rateLimiterOf } from './rate-limit.ts';
import { serviceRoutes } from './routes/service.ts';
import { slackRoutes } from './routes/slack.ts';
import { sourceAddress } from './source-address.ts';

/** A route module: mounts its endpoints on the authenticated `/v1` router. */
export type RouteModule = (router: Router, services: Services) => void;

export function createApp(services: Services, modules: readonly RouteModule[], consoleOptions: ConsoleOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(requestId);
  app.use(helmet());
  app.use(accessLog(services));
  app.use(refuseOptions);
  app.use(serviceRoutes(services));
  // The API's own description needs no credentials.
  app.get('/v1/openapi.json', (_req, res) => {
    res.json(openApiDocument(VERSION));
  });

  const v1 = Router();
  v1.use((req, res, next) => {
    res.locals.routeBase = req.baseUrl; // express resets baseUrl before an error response finishes
    next();
  });
  v1.use(bodyTimeout(services.config.bodyTimeoutMs));
  v1.use(express.json({ limit: '64kb', strict: true, type: () => true }));
  v1.use(authenticate(services));
  v1.use(sourceAddress(services.config.trustProxy));
  v1.use(rateLimit(rateLimiterOf(services)));
  v1.use(refuseNul);
  for (const mount of modules) mount(v1, services);
  app.use('/v1/integrations/slack', slackRoutes(services));
  app.use('/v1', v1);
  app.use(consoleRoutes(consoleOptions));

  app.use(notFoundHandler);
  app.use(errorHandler(services.logger));
  return app;
}
