/**
 * The response shapes of the `/v1` API, in zod: defined once and used by the routes (as the types
 * of what they send), by the OpenAPI document (openapi.ts, through z.toJSONSchema), by the tests
 * (recorded responses are validated against that document) and, as types, by the web console.
 * This file imports zod only, so the browser code can import its types.
 *
 * Objects whose fields other parts of the service may extend (releases' privacy, access
 * requests) are open (`looseObject`): the listed fields are guaranteed, more may follow.
 */
import { z } from 'zod';

const num = z.number();
const iso = z.string().describe('ISO 8601 time');
const nullableIso = iso.nullable();

export const errorResponse = z.strictObject({
  error: z.strictObject({
    code: z.string().describe('a stable code of the error table'),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const amount = z.strictObject({ limit: num, spent: num, remaining: num });
export const budgetStatus = z.strictObject({ epsilon: amount, delta: amount });

export const accuracy = z.union([
  z.strictObject({ stddev: num, ci: z.tuple([num, num]), confidence: num, approximate: z.literal(true).optional() }),
  z.strictObject({ stddev: z.null(), ci: z.null(), confidence: num, note: z.string() }),
]);

const jsonValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const row = z.record(z.string(), jsonValue);
const mechanism = z.enum(['laplace', 'gaussian']);
const partitionSelection = z.enum(['none', 'public', 'private']);

const splitShare = z.strictObject({ column: z.string().nullable(), measurement: z.string(), epsilon: num, rho: num.optional(), delta: num.optional() });

export const releasePrivacy = z.looseObject({
  epsilon: num,
  delta: num,
  mechanism,
  partitionSelection,
  split: z.array(splitShare),
});

export const queryAnswer = z.strictObject({
  id: z.string(),
  dataset: z.string(),
  columns: z.array(z.string()),
  rows: z.array(row),
  accuracy: z.record(z.string(), accuracy),
  privacy: releasePrivacy.extend({ cached: z.boolean(), released: z.strictObject({ epsilon: num, delta: num }) }),
  budget: budgetStatus,
  releasedAt: iso.describe('when the release was computed (earlier than now for a cached answer)'),
});

export const estimateResponse = z.strictObject({
  dataset: z.string(),
  epsilon: num,
  delta: num,
  mechanism,
  accuracy: z.record(z.string(), accuracy),
  budget: budgetStatus,
  allowed: z.boolean(),
  reason: z.string().optional(),
});

export const budgetList = z.strictObject({
  budgets: z.array(z.strictObject({ dataset: z.string(), epsilon: amount, delta: amount, renews: nullableIso })),
});

export const historyEntry = z.strictObject({
  id: z.string(),
  at: iso,
  dataset: z.string(),
  sql: z.string().describe("the caller's SQL; for an auditor reading another principal's, the redacted text"),
  privacy: z.strictObject({ epsilon: num, delta: num, mechanism, partitionSelection, cached: z.boolean() }),
  cached: z.boolean(),
  rowCount: z.number().int(),
  replays: z.number().int().describe('how often the principal replayed this release since'),
});
export const historyList = z.strictObject({ queries: z.array(historyEntry), next: z.string().nullable() });
export const historyDetail = historyEntry.extend({ columns: z.array(z.string()), rows: z.array(row), accuracy: z.record(z.string(), accuracy) });

const columnInfo = z.looseObject({
  type: z.string(),
  sensitivity: z.enum(['none', 'quasi', 'pii']),
  aggregate: z.boolean(),
  bounds: z.tuple([z.union([num, z.string()]), z.union([num, z.string()])]).optional(),
  granularity: num.optional(),
  values: z.array(jsonValue).optional(),
  mask: z.unknown().optional(),
});
export const datasetInfo = z.looseObject({
  name: z.string(),
  description: z.string().nullable(),
  defaults: z.looseObject({ epsilon: num, delta: num, mechanism }),
  limits: z.looseObject({ minEpsilon: num, maxEpsilon: num }),
  budget: z.unknown(),
  cacheTtl: z.string(),
  joins: z.array(z.array(z.string())),
  tables: z.record(z.string(), z.looseObject({ unit: z.string(), maxRowsPerUnit: z.number().int(), columns: z.record(z.string(), columnInfo) })),
});
export const datasetList = z.strictObject({ datasets: z.array(datasetInfo) });

export const me = z.strictObject({
  principal: z.string(),
  roles: z.array(z.string()),
  may: z.array(z.string()).describe('the actions the roles allow, on any dataset'),
  datasets: z.array(z.string()).describe('the datasets the principal may query'),
  metrics: z.array(z.string()).describe('the metrics it may read'),
});

export const metricList = z.strictObject({
  metrics: z.array(z.strictObject({ name: z.string(), dataset: z.string(), description: z.string().nullable(), epsilon: num, refresh: z.string(), budget: budgetStatus })),
});
export const metricRelease = z.strictObject({
  name: z.string(),
  id: z.string(),
  releasedAt: iso,
  nextReleaseAt: nullableIso,
  stale: z.boolean(),
  columns: z.array(z.string()),
  rows: z.array(row),
  accuracy: z.record(z.string(), accuracy),
  privacy: releasePrivacy,
});
export const metricHistory = z.strictObject({ name: z.string(), releases: z.array(metricRelease) });

export const accessRequest = z.looseObject({
  id: z.string(),
  kind: z.enum(['raw', 'budget']),
  dataset: z.string(),
  status: z.enum(['pending', 'approved', 'denied', 'expired', 'revoked', 'cancelled']),
  requester: z.string(),
  columns: z.array(z.string()).optional(),
  columnSensitivity: z.record(z.string(), z.enum(['none', 'quasi', 'pii'])).optional(),
  epsilon: num.nullable().optional(),
  delta: num.nullable().optional(),
  sensitivity: z.enum(['none', 'quasi', 'pii']),
  justification: z.string(),
  ticket: z.string().nullable(),
  durationMinutes: num.nullable(),
  breakGlass: z.boolean(),
  requiredApprovals: z.number().int(),
  approvals: z.array(z.strictObject({ approver: z.string(), at: iso, comment: z.string().nullable() })),
  createdAt: iso,
  pendingUntil: iso,
  expiresAt: nullableIso,
  reason: z.string().nullable(),
  usage: z.looseObject({ queries: z.number().int(), rows: z.number().int(), maxQueries: z.number().int(), maxRows: z.number().int() }).optional(),
});
export const accessRequestList = z.strictObject({ requests: z.array(accessRequest) });

const rawCell: z.ZodType<unknown> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(rawCell)]));
export const rawAnswer = z.strictObject({
  requestId: z.string(),
  dataset: z.string(),
  columns: z.array(z.string()),
  columnTypes: z.record(z.string(), z.enum(['id', 'integer', 'numeric', 'text', 'boolean', 'date', 'timestamp'])).describe('text for masked columns'),
  rows: z.array(z.record(z.string(), rawCell)),
  masked: z.record(z.string(), z.string()),
  rowCount: z.number().int(),
  truncated: z.boolean(),
  usage: z.strictObject({ queries: z.number().int(), rows: z.number().int(), maxQueries: z.number().int(), maxRows: z.number().int() }),
});

export const revealResponse = z.strictObject({
  requestId: z.string(),
  values: z.record(z.string(), z.string()),
  unrevealed: z.array(z.string()),
  reasons: z.record(
    z.string(),
    z.strictObject({ reason: z.enum(['unknown_token', 'other_dataset', 'column_not_granted', 'no_token_key']), message: z.string(), column: z.string().optional() }),
  ),
});

export const auditEntry = z.looseObject({
  seq: z.number().int(),
  at: iso,
  actor: z.string(),
  action: z.string(),
  dataset: z.string().nullable(),
  outcome: z.string(),
  epsilon: num.nullable(),
  delta: num.nullable(),
  sqlFingerprint: z.string().nullable(),
  sqlRedacted: z.string().nullable(),
  rowCount: z.number().int().nullable(),
  requestId: z.string().nullable(),
  httpRequestId: z.string().nullable(),
  code: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
  prevHash: z.string(),
  hash: z.string(),
});
export const auditPage = z.strictObject({ entries: z.array(auditEntry), next: z.number().int().nullable() });
export const auditVerify = z.union([
  z.strictObject({ ok: z.literal(true), entries: z.number().int(), head: z.string() }),
  z.strictObject({ ok: z.literal(false), firstBadSeq: z.number().int(), reason: z.string() }),
]);

/** What a route may send for a schema's type: the same shape with readonly arrays and fields. */
export type DeepReadonly<T> = T extends (infer E)[] ? readonly DeepReadonly<E>[] : T extends readonly [infer A, infer B] ? readonly [DeepReadonly<A>, DeepReadonly<B>] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

export type ErrorResponse = z.infer<typeof errorResponse>;
export type BudgetStatus = z.infer<typeof budgetStatus>;
export type Accuracy = z.infer<typeof accuracy>;
export type QueryAnswer = z.infer<typeof queryAnswer>;
export type EstimateResponse = z.infer<typeof estimateResponse>;
export type HistoryList = z.infer<typeof historyList>;
export type HistoryEntry = z.infer<typeof historyEntry>;
export type HistoryDetail = z.infer<typeof historyDetail>;
export type Me = z.infer<typeof me>;
export type AuditPage = z.infer<typeof auditPage>;
export type AuditEntry = z.infer<typeof auditEntry>;
export type RawAnswer = z.infer<typeof rawAnswer>;
export type MetricRelease = z.infer<typeof metricRelease>;
export type MetricList = z.infer<typeof metricList>;
