/** Every `/v1` route module, in mounting order. */
import type { RouteModule } from '../app.ts';
import { accessRoutes } from './access.ts';
import { auditRoutes } from './audit.ts';
import { budgetRoutes } from './budget.ts';
import { datasetRoutes } from './datasets.ts';
import { queryRoutes } from './queries.ts';

export const ROUTES: readonly RouteModule[] = [datasetRoutes, queryRoutes, budgetRoutes, auditRoutes, accessRoutes];
