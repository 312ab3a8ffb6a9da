/** Every `/v1` route module, in mounting order. */
import type { RouteModule } from '../app.ts';
import { accessRoutes } from './access.ts';
import { alertRoutes } from './alerts.ts';
import { accessReviewRoutes } from './access-reviews.ts';
import { auditRoutes } from './audit.ts';
import { budgetRoutes } from './budget.ts';
import { datasetRoutes } from './datasets.ts';
import { meRoutes } from './me.ts';
import { metricRoutes } from './metrics.ts';
import { queryRoutes } from './queries.ts';
import { rawQueryRoutes } from './raw-queries.ts';
import { tokenRoutes } from './tokens.ts';

export const ROUTES: readonly RouteModule[] = [meRoutes, datasetRoutes, queryRoutes, budgetRoutes, auditRoutes, metricRoutes, accessRoutes, rawQueryRoutes, tokenRoutes, alertRoutes, accessReviewRoutes];
