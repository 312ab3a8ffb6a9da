/**
 * Running one classified statement of a session by calling the services HTTP calls: runQuery
 * (aggregates), estimateQuery (EXPLAIN), budgetsOf (SHOW dpq.budget), runRawQuery (under
 * `dpq.raw_grant`) — the same pipeline, policy, budgets, replay cache and audit log — and the
 * policy catalog for catalog reads.
 */
import { accessContext } from '../access/context.ts';
import { activeGrantOf, runRawQuery } from '../access/raw-query.ts';
import { rawQueryBody } from '../access/schemas.ts';
import { budgetsOf } from '../budget/overview.ts';
import { DpqError, invalidRequest } from '../errors.ts';
import { parseInput } from '../http/parse-input.ts';
import type { Principal } from '../policy/authorize.ts';
import { estimateQuery } from '../queries/estimate.ts';
import { resolveParams } from '../queries/params.ts';
import { prepareQuery } from '../queries/prepare.ts';
import { estimateBody, queryBody } from '../queries/request.ts';
import { runQuery } from '../queries/run.ts';
import type { Services } from '../services.ts';
import type { Catalog } from './catalog.ts';
import { substitute } from './params.ts';
import { budgetResult, estimateResult, OID, planColumns, queryResult, rawResult, type ResultColumn, type ResultSet, textResult } from './results.ts';
import { SERVER_VERSION, type SessionSettings } from './settings.ts';
import type { SessionFunction, Statement } from './statements.ts';

export interface SessionContext {
  readonly services: Services;
  readonly catalog: Catalog;
  readonly principal: Principal;
  readonly dataset: string;
  readonly settings: SessionSettings;
  /** A fresh id per statement, recorded as the audit entries' `httpRequestId`. */
  readonly nextRequestId: () => string;
  /** The peer's address, for the access rules' `sourceIps` (a TCP proxy in front hides it). */
  readonly sourceAddress: string | undefined;
}

export interface Outcome {
  readonly result: ResultSet;
  /** ParameterStatus messages to send (a reported parameter was SET). */
  readonly statuses: readonly [string, string][];
}

const command = (tag: string, statuses: readonly [string, string][] = []): Outcome => ({ result: { columns: [], rows: [], tag }, statuses });

export const VERSION_TEXT = `PostgreSQL ${SERVER_VERSION} (dpq differential-privacy gateway)`;

function sessionValue(ctx: SessionContext, fn: SessionFunction): string {
  switch (fn) {
    case 'current_database':
      return ctx.dataset;
    case 'current_user':
      return ctx.principal.name;
    case 'current_schema':
      return ctx.services.policy.datasets[ctx.dataset]!.schema;
    case 'version':
      return VERSION_TEXT;
  }
}

const sessionColumns = (stmt: Extract<Statement, { kind: 'session' }>): ResultColumn[] =>
  stmt.columns.map((c) => ({ name: c.name, oid: c.fn === 'version' ? OID.text : OID.name }));

/** The aggregate pipeline's body for `sql` under the session's settings. */
function queryRequest(ctx: SessionContext, sql: string): ReturnType<typeof queryBody.parse> {
  const d = ctx.settings.dpq;
  return parseInput(queryBody, {
    sql,
    dataset: ctx.dataset,
    ...(d.epsilon === undefined ? {} : { epsilon: d.epsilon }),
    ...(d.delta === undefined ? {} : { delta: d.delta }),
    ...(d.mechanism === undefined ? {} : { mechanism: d.mechanism }),
    ...(d.confidence === undefined ? {} : { confidence: d.confidence }),
  });
}

const COLUMN_CACHE_SIZE = 1000;
const columnCache = new WeakMap<Services, Map<string, ResultColumn[]>>();

/** Result columns of an aggregate SQL, from its plan (charges nothing, reads no data; remembered per SQL text). */
async function aggregateColumns(ctx: SessionContext, sql: string): Promise<ResultColumn[]> {
  let cache = columnCache.get(ctx.services);
  if (cache === undefined) columnCache.set(ctx.services, (cache = new Map()));
  const key = `${ctx.dataset}\u0000${ctx.settings.dpq.accuracyColumns ? 1 : 0}\u0000${sql}`;
  const known = cache.get(key);
  if (known !== undefined) return known;
  const body = queryRequest(ctx, sql);
  const prepared = await prepareQuery(ctx.services, resolveParams(ctx.services.policy, ctx.principal, body), body.sql);
  const columns = planColumns(prepared.plan, ctx.settings.dpq.accuracyColumns);
  if (cache.size >= COLUMN_CACHE_SIZE) cache.clear();
  cache.set(key, columns);
  return columns;
}

async function runData(ctx: SessionContext, sql: string): Promise<ResultSet> {
  const actor = { principal: ctx.principal, httpRequestId: ctx.nextRequestId(), sourceAddress: ctx.sourceAddress };
  const grant = ctx.settings.dpq.rawGrant;
  if (grant !== undefined) {
    const body = parseInput(rawQueryBody, { requestId: grant, sql });
    const answer = await runRawQuery(accessContext(ctx.services), actor, body.requestId, body.sql);
    return rawResult(answer, ctx.services.policy.datasets[answer.dataset]!);
  }
  const answer = await runQuery(ctx.services, actor, queryRequest(ctx, sql));
  return queryResult(answer, await aggregateColumns(ctx, sql), ctx.settings.dpq.accuracyColumns);
}

async function show(ctx: SessionContext, name: string): Promise<ResultSet> {
  if (name === 'dpq.budget') return budgetResult(await budgetsOf(ctx.services, ctx.principal));
  if (name === 'all') {
    return textResult([{ name: 'name', oid: OID.text }, { name: 'setting', oid: OID.text }, { name: 'description', oid: OID.text }], ctx.settings.all().map(([n, v]) => [n, v, '']), 'SHOW');
  }
  const value = ctx.settings.show(name);
  if (value === undefined) throw invalidRequest(`unrecognized configuration parameter "${name}"`, { setting: name });
  return textResult([{ name, oid: OID.text }], [[value]], 'SHOW');
}

async function set(ctx: SessionContext, name: string, value: string): Promise<Outcome> {
  const status = ctx.settings.set(name, value);
  if (name === 'dpq.raw_grant') {
    try {
      await activeGrantOf(accessContext(ctx.services), { principal: ctx.principal, httpRequestId: ctx.nextRequestId(), sourceAddress: ctx.sourceAddress }, ctx.settings.dpq.rawGrant!, 'access.raw_query');
    } catch (err: unknown) {
      ctx.settings.reset(name);
      throw err;
    }
  }
  return command('SET', status === undefined ? [] : [status]);
}

/** Run a statement with its (text) parameters. */
export async function executeStatement(ctx: SessionContext, stmt: Statement, params: readonly (string | null)[]): Promise<Outcome> {
  switch (stmt.kind) {
    case 'noop':
      return command(stmt.tag);
    case 'deallocate':
      return command(stmt.name === undefined ? 'DEALLOCATE ALL' : 'DEALLOCATE');
    case 'set':
      return set(ctx, stmt.name, stmt.value);
    case 'reset': {
      const status = ctx.settings.reset(stmt.name);
      return command('RESET', status === undefined ? [] : [status]);
    }
    case 'resetAll':
      ctx.settings.resetAll();
      return command('RESET');
    case 'show':
      return { result: await show(ctx, stmt.name), statuses: [] };
    case 'session':
      return { result: textResult(sessionColumns(stmt), [stmt.columns.map((c) => sessionValue(ctx, c.fn))], 'SELECT 1'), statuses: [] };
    case 'explain': {
      const body = parseInput(estimateBody, { ...queryRequest(ctx, await substitute(stmt.sql, params)) });
      return { result: estimateResult(await estimateQuery(ctx.services, ctx.principal, body)), statuses: [] };
    }
    case 'catalog': {
      const r = await ctx.catalog.query(ctx.dataset, stmt.sql, params);
      return { result: { columns: r.columns, rows: r.rows, tag: r.tag }, statuses: [] };
    }
    case 'data':
      return { result: await runData(ctx, await substitute(stmt.sql, params)), statuses: [] };
  }
}

/**
 * The parameter types and result columns of a statement before it is bound (Describe of a
 * statement); `columns: undefined` answers NoData. Charges nothing and reads no data.
 */
export async function describeStatement(ctx: SessionContext, stmt: Statement, parameterCount: number): Promise<{ parameters: number[]; columns: ResultColumn[] | undefined }> {
  const unknown = Array.from({ length: parameterCount }, () => 0);
  switch (stmt.kind) {
    case 'catalog': {
      const r = await ctx.catalog.describe(ctx.dataset, stmt.sql);
      return { parameters: [...r.parameters], columns: r.columns.length === 0 ? undefined : [...r.columns] };
    }
    case 'session':
      return { parameters: unknown, columns: sessionColumns(stmt) };
    case 'explain':
      return { parameters: unknown, columns: [...estimateResult({ dataset: '', epsilon: 0, delta: 0, mechanism: '', accuracy: {}, budget: { epsilon: { limit: 0, spent: 0, remaining: 0 }, delta: { limit: 0, spent: 0, remaining: 0 } }, allowed: false }).columns] };
    case 'show':
      return { parameters: unknown, columns: [...(await show(ctx, stmt.name)).columns] };
    case 'data': {
      if (ctx.settings.dpq.rawGrant !== undefined) return { parameters: unknown, columns: undefined };
      // The plan's columns do not depend on the literals' values: describe with placeholders.
      const sql = await substitute(stmt.sql, Array.from({ length: parameterCount }, () => '0'));
      try {
        return { parameters: unknown, columns: await aggregateColumns(ctx, sql) };
      } catch (err: unknown) {
        if (err instanceof DpqError) return { parameters: unknown, columns: undefined };
        throw err;
      }
    }
    default:
      return { parameters: unknown, columns: undefined };
  }
}
