/** Every `/v1` route module, in mounting order. */
import type { RouteModule } from '../app.ts';
import { auditRoutes } from './audit.ts';
import { datasetRoutes } from './datasets.ts';

export const ROUTES: readonly RouteModule[] = [datasetRoutes, auditRoutes];
