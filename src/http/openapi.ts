/**
 * `GET /v1/openapi.json`: the OpenAPI 3.1 document of every `/v1` route, generated with
 * z.toJSONSchema from the same zod schemas that validate the requests (queries/request.ts,
 * access/schemas.ts, the route modules) and describe the responses (schemas.ts). A route is
 * listed here once; test/http/openapi.test.ts fails when a mounted route is missing.
 */
import { z } from 'zod';
import { approveBody, cancelBody, createBody, denyBody, idParams, listQuery, rawQueryBody, revealBody, revokeBody } from '../access/schemas.ts';
import { ERROR_STATUS } from '../errors.ts';
import { estimateBody, queryBody } from '../queries/request.ts';
import { reviewQuery } from './routes/access-reviews.ts';
import { alertsQuery } from './routes/alerts.ts';
import { auditListQuery, verifyQuery } from './routes/audit.ts';
import { historyQuery as metricHistoryQuery } from './routes/metrics.ts';
import { historyListQuery, historyParams, historyReadQuery } from './routes/queries.ts';
import * as r from './schemas.ts';

export interface RouteDoc {
  readonly method: 'get' | 'post';
  /** OpenAPI path template: `/v1/queries/{id}`. */
  readonly path: string;
  readonly summary: string;
  readonly auth?: false;
  readonly body?: z.ZodType;
  readonly query?: z.ZodObject;
  readonly params?: z.ZodObject;
  readonly response: z.ZodType;
  /** The status of a success (200 unless said). */
  readonly status?: number;
  /** Error codes this route may answer besides UNAUTHENTICATED, RATE_LIMITED, UNAVAILABLE, INTERNAL. */
  readonly errors: readonly (keyof typeof ERROR_STATUS)[];
}

const metricParams = z.strictObject({ name: z.string().min(1).max(200) });
const looseObject = z.looseObject({});
const openApiObject = z.looseObject({ openapi: z.literal('3.1.0'), info: z.looseObject({}), paths: z.record(z.string(), z.unknown()) });

export const ROUTE_DOCS: readonly RouteDoc[] = [
  { method: 'get', path: '/v1/openapi.json', summary: 'This document', auth: false, response: openApiObject, errors: [] },
  { method: 'get', path: '/v1/me', summary: 'The caller: principal, roles, allowed actions, datasets and metrics', response: r.me, errors: [] },
  { method: 'get', path: '/v1/datasets', summary: 'The datasets the caller may query, with tables, columns, bounds and defaults', response: r.datasetList, errors: [] },
  { method: 'post', path: '/v1/queries', summary: 'Run an aggregate query: a differentially private answer, charged to the budget', body: queryBody, response: r.queryAnswer, errors: ['INVALID_REQUEST', 'SQL_SYNTAX', 'SQL_NOT_ALLOWED', 'FORBIDDEN', 'BUDGET_EXHAUSTED', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE', 'QUERY_FAILED'] },
  { method: 'post', path: '/v1/queries/estimate', summary: 'Cost and accuracy of a query, or the ε for a wanted accuracy; charges nothing', body: estimateBody, response: r.estimateResponse, errors: ['INVALID_REQUEST', 'SQL_SYNTAX', 'SQL_NOT_ALLOWED', 'FORBIDDEN', 'NOT_FOUND'] },
  { method: 'get', path: '/v1/queries', summary: "The caller's answered queries, newest first", query: historyListQuery, response: r.historyList, errors: ['INVALID_REQUEST', 'FORBIDDEN'] },
  { method: 'get', path: '/v1/queries/{id}', summary: 'One answered query with its release, as released (free)', params: historyParams, query: historyReadQuery, response: r.historyDetail, errors: ['INVALID_REQUEST', 'FORBIDDEN', 'NOT_FOUND'] },
  { method: 'get', path: '/v1/budget', summary: "The caller's budget per dataset", response: r.budgetList, errors: [] },
  { method: 'get', path: '/v1/metrics', summary: 'The metrics the caller may read', response: r.metricList, errors: [] },
  { method: 'get', path: '/v1/metrics/{name}', summary: "A metric's latest release (at most one new release per refresh)", params: metricParams, response: r.metricRelease, errors: ['FORBIDDEN', 'NOT_FOUND', 'QUERY_FAILED'] },
  { method: 'get', path: '/v1/metrics/{name}/history', summary: 'Earlier releases of a metric, newest first', params: metricParams, query: metricHistoryQuery, response: r.metricHistory, errors: ['INVALID_REQUEST', 'FORBIDDEN', 'NOT_FOUND'] },
  { method: 'post', path: '/v1/access-requests', summary: 'Ask for time-boxed raw access or more budget', body: createBody, response: r.accessRequest, status: 201, errors: ['INVALID_REQUEST', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT'] },
  { method: 'get', path: '/v1/access-requests', summary: "The caller's requests and those it may approve", query: listQuery, response: r.accessRequestList, errors: ['INVALID_REQUEST'] },
  { method: 'get', path: '/v1/access-requests/{id}', summary: 'One access request', params: idParams, response: r.accessRequest, errors: ['INVALID_REQUEST', 'NOT_FOUND'] },
  { method: 'post', path: '/v1/access-requests/{id}/approve', summary: 'Approve (N of M approvers)', params: idParams, body: approveBody, response: r.accessRequest, errors: ['INVALID_REQUEST', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT'] },
  { method: 'post', path: '/v1/access-requests/{id}/deny', summary: 'Deny, with a reason', params: idParams, body: denyBody, response: r.accessRequest, errors: ['INVALID_REQUEST', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT'] },
  { method: 'post', path: '/v1/access-requests/{id}/revoke', summary: 'Revoke an active grant, with a reason', params: idParams, body: revokeBody, response: r.accessRequest, errors: ['INVALID_REQUEST', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT'] },
  { method: 'post', path: '/v1/access-requests/{id}/cancel', summary: 'Cancel one of the caller\'s own requests', params: idParams, body: cancelBody, response: r.accessRequest, errors: ['INVALID_REQUEST', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT'] },
  { method: 'post', path: '/v1/raw-queries', summary: 'Row-level SELECT under an active raw grant; masked columns unless granted', body: rawQueryBody, response: r.rawAnswer, errors: ['INVALID_REQUEST', 'SQL_SYNTAX', 'SQL_NOT_ALLOWED', 'FORBIDDEN', 'QUOTA_EXCEEDED', 'QUERY_FAILED'] },
  { method: 'post', path: '/v1/tokens/reveal', summary: 'Clear values of tokens, where the grant covers their column', body: revealBody, response: r.revealResponse, errors: ['INVALID_REQUEST', 'FORBIDDEN'] },
  { method: 'get', path: '/v1/audit', summary: 'Audit entries (auditors): filters and a cursor', query: auditListQuery, response: r.auditPage, errors: ['INVALID_REQUEST', 'FORBIDDEN'] },
  { method: 'get', path: '/v1/audit/verify', summary: "Verify the audit log's hash chain", query: verifyQuery, response: r.auditVerify, errors: ['INVALID_REQUEST', 'FORBIDDEN'] },
  { method: 'get', path: '/v1/access-reviews', summary: 'The access review of a period (auditors, admins): grants, top-ups, break-glass reviews, unused rules and roles', query: reviewQuery, response: looseObject, errors: ['INVALID_REQUEST', 'FORBIDDEN'] },
  { method: 'get', path: '/v1/alerts', summary: 'Alerts raised by the policy\'s alert rules, newest first (auditors, admins)', query: alertsQuery, response: looseObject, errors: ['INVALID_REQUEST', 'FORBIDDEN'] },
  { method: 'post', path: '/v1/integrations/slack/actions', summary: 'Slack interactive actions (Approve / Deny), verified by the v0 request signature', auth: false, response: looseObject, errors: ['INVALID_REQUEST', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT'] },
];

/** Every authenticated route can answer these: the body parser and the rate limit run before any of them. */
const ALWAYS: readonly (keyof typeof ERROR_STATUS)[] = ['INVALID_REQUEST', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED', 'UNAVAILABLE', 'INTERNAL'];

const jsonSchema = (s: z.ZodType, io: 'input' | 'output'): Record<string, unknown> => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return rest;
};

function parameters(where: 'path' | 'query', s: z.ZodObject | undefined): Record<string, unknown>[] {
  if (s === undefined) return [];
  const schema = jsonSchema(s, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, p]) => ({
    name,
    in: where,
    required: where === 'path' || (schema.required ?? []).includes(name),
    schema: p,
  }));
}

function operation(d: RouteDoc): Record<string, unknown> {
  const codes = [...new Set([...d.errors, ...(d.auth === false ? [] : (['UNAUTHENTICATED'] as const)), ...(d.auth === false ? [] : ALWAYS)])];
  const byStatus = new Map<number, string[]>();
  for (const c of codes) byStatus.set(ERROR_STATUS[c], [...(byStatus.get(ERROR_STATUS[c]) ?? []), c]);
  const responses: Record<string, unknown> = {
    [String(d.status ?? 200)]: { description: 'OK', content: { 'application/json': { schema: jsonSchema(d.response, 'output') } } },
  };
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    responses[String(status)] = { description: list.join(', '), content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  }
  return {
    summary: d.summary,
    operationId: `${d.method}${d.path.replace(/^\/v1/, '').replace(/[{}]/g, '').replace(/[/.-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
    ...(d.auth === false ? { security: [] } : {}),
    parameters: [...parameters('path', d.params), ...parameters('query', d.query)],
    ...(d.body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(d.body, 'input') } } } }),
    responses,
  };
}

let cached: Record<string, unknown> | undefined;

export function openApiDocument(version: string): Record<string, unknown> {
  if (cached !== undefined) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const d of ROUTE_DOCS) (paths[d.path] ??= {})[d.method] = operation(d);
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'dpq',
      version,
      description: 'A differential-privacy query gateway. Errors are {"error": {code, message, details}} with the stable codes of docs/api.md.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a JWT naming a principal of the policy, or a service account API key' } },
      schemas: { Error: jsonSchema(r.errorResponse, 'output') },
    },
  };
  return cached;
}
