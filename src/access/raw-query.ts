/**
 * `POST /v1/raw-queries`: row-level SELECTs under an active raw grant of the caller.
 *
 * 1. The grant: the caller's own, kind raw, approved and not past `expiresAt` — read from the
 *    state store on every request, so a revocation on any replica applies to the next query.
 * 2. Parse and validate (sql/raw/): refusals cost nothing and never reach the warehouse.
 * 3. Reserve the quota in one transaction on the grant's locked row (re-checking that it is still
 *    active): one query, and as many rows as this query may return — the smaller of
 *    `maxRowsPerQuery` and what is left of `maxRowsPerGrant`. Concurrent queries on any number of
 *    replicas can therefore never pass a quota.
 * 4. Run it READ ONLY as the reader role (warehouse adapter), one row more than allowed to know
 *    whether the result was truncated.
 * 5. Mask (masking.ts), then in one transaction: give back the unused part of the row
 *    reservation, keep the new tokens in the vault, and append the audit entry (columns, row
 *    count, redacted SQL — never values). Only then do the rows leave.
 */
import type { AuditEntryInput } from '../audit/entry.ts';
import { auditedTransaction, recordAudit } from '../audit/record.ts';
import { DpqError, forbidden } from '../errors.ts';
import { describeHours, failedCondition } from '../policy/conditions.ts';
import type { ColumnType, Dataset } from '../policy/schema.ts';
import { compileRaw, parseSql, type RawPlan, redact, shapeFingerprint, validateRaw } from '../sql/index.ts';
import type { Cell } from '../warehouse/adapter.ts';
import { WarehouseError, warehouseFailure } from '../warehouse/adapter.ts';
import type { AccessContext, Actor } from './context.ts';
import { settleExpired } from './expiry.ts';
import { applyMask, maskKind, type MaskKind, type Tokenized } from './masking.ts';
import { type AccessRequest, effectiveStatus, isActiveGrant } from './model.ts';
import { getRequest, lockRequest, releaseRows, reserveUsage } from './repository.ts';
import { storeTokens } from './vault.ts';

export type JsonCell = string | number | boolean | null | JsonCell[];

export interface RawQueryResponse {
  readonly requestId: string;
  readonly dataset: string;
  readonly columns: readonly string[];
  /** Each column's type as JSON readers should take it: the policy type, `text` for masked columns. */
  readonly columnTypes: Readonly<Record<string, ColumnType>>;
  readonly rows: readonly Record<string, JsonCell>[];
  readonly masked: Readonly<Record<string, MaskKind>>;
  readonly rowCount: number;
  readonly truncated: boolean;
  readonly usage: { readonly queries: number; readonly rows: number; readonly maxQueries: number; readonly maxRows: number };
}

/** A decimal text without sign noise, leading or trailing zeros: `-0012.50` → `-12.5`. */
function canonicalDecimal(text: string): string | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const int = m[2]!.replace(/^0+(?=\d)/, '') || '0';
  const frac = (m[3] ?? '').replace(/0+$/, '');
  const body = frac === '' ? int : `${int}.${frac}`;
  return m[1] === '-' && body !== '0' ? `-${body}` : body;
}

/**
 * A numeric value's text as a JSON number when the number reads back as the same decimal
 * (`212.30` → 212.3), else the exact text (`0.1000000000000000055511151231257827`,
 * `123456789012345678901`): a JSON reader never gets a value that differs from the warehouse's.
 */
export function exactNumber(text: string): number | string {
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  const shown = String(n);
  if (/e/i.test(shown)) return text;
  return canonicalDecimal(text) === canonicalDecimal(shown) ? n : text;
}

/** A cell as JSON: int8 and numeric as numbers when exact, else their decimal text. */
export function jsonCell(cell: Cell, numeric = false): JsonCell {
  if (typeof cell === 'bigint') return Number.isSafeInteger(Number(cell)) ? Number(cell) : cell.toString();
  if (Array.isArray(cell)) return cell.map((c: Cell) => jsonCell(c, numeric));
  if (numeric && typeof cell === 'string') return exactNumber(cell);
  return cell as string | number | boolean | null;
}

const NUMERIC_TYPES: ReadonlySet<ColumnType> = new Set(['integer', 'numeric']);

/** The caller's active raw grant, or a 403 (audited when the request exists). */
export async function activeGrantOf(ctx: AccessContext, actor: Actor, requestId: string, action: string): Promise<AccessRequest> {
  const now = ctx.services.clock.now();
  const grant = await getRequest(ctx.services.state, requestId);
  if (grant === undefined || grant.requester !== actor.principal.name || grant.kind !== 'raw') {
    throw forbidden('no raw grant of this principal has this id');
  }
  if (grant.extends !== null) throw forbidden(`this is an extension; use the grant it extends, ${grant.extends}`, { grant: grant.extends });
  if (!isActiveGrant(grant, now) || !Object.hasOwn(ctx.services.policy.datasets, grant.dataset)) {
    const status = effectiveStatus(grant, now);
    const err = forbidden(`this grant is ${status}, not active`, { status });
    await auditRefusal(ctx, actor, grant, action, err, undefined);
    throw err;
  }
  const refusal = conditionRefusal(ctx, actor, grant, now);
  if (refusal !== undefined) {
    if (action === 'access.raw_query') ctx.metrics.rawQueries.inc({ dataset: grant.dataset, outcome: 'refused' });
    await auditRefusal(ctx, actor, grant, action, refusal, undefined);
    throw refusal;
  }
  return grant;
}

/**
 * The rule's `conditions` at this use (policy.md): the source address and the hours. A
 * break-glass grant is exempt from `hours` only — an emergency does not wait for office hours,
 * and such a grant is announced and reviewed anyway — never from `sourceIps`.
 */
function conditionRefusal(ctx: AccessContext, actor: Actor, grant: AccessRequest, now: Date): DpqError | undefined {
  const conditions = ctx.services.policy.access.rules[grant.ruleIndex]?.conditions;
  if (conditions === undefined) return undefined;
  const failed = failedCondition(grant.breakGlass ? { ...conditions, hours: undefined } : conditions, actor.sourceAddress, now);
  if (failed === undefined) return undefined;
  const rule = `access.rules[${grant.ruleIndex}].conditions`;
  return failed === 'sourceIps'
    ? forbidden(`this grant works only from ${conditions.sourceIps!.map((c) => c.text).join(', ')} (${rule}.sourceIps); this request comes from ${actor.sourceAddress ?? 'an unknown address'}`, {
        condition: 'sourceIps',
        sourceAddress: actor.sourceAddress ?? null,
      })
    : forbidden(`this grant works only ${describeHours(conditions.hours!)} (${rule}.hours)`, { condition: 'hours' });
}

async function auditRefusal(ctx: AccessContext, actor: Actor, grant: AccessRequest, action: string, err: DpqError, sql: string | undefined): Promise<void> {
  const entry: AuditEntryInput = {
    actor: actor.principal.name,
    action,
    dataset: grant.dataset,
    outcome: 'refused',
    code: err.code,
    requestId: grant.id,
    httpRequestId: actor.httpRequestId,
    sqlRedacted: sql === undefined ? null : await redact(sql),
    details: {
      status: effectiveStatus(grant, ctx.services.clock.now()),
      ...(err.is('SQL_NOT_ALLOWED') && err.details !== undefined ? { construct: err.details.construct } : {}),
      ...(err.is('FORBIDDEN') && err.details?.condition !== undefined ? { condition: err.details.condition, sourceAddress: actor.sourceAddress ?? null } : {}),
    },
  };
  await recordAudit(ctx.services, [entry]).catch(() => undefined);
}

const quotaExceeded = (what: string, limit: number): DpqError => new DpqError('QUOTA_EXCEEDED', `this grant's ${what} quota (${limit}) is used up`, { quota: what, limit });

/** Validate `sql` for the grant (no warehouse, no quota); refusals are audited. */
async function planFor(ctx: AccessContext, actor: Actor, grant: AccessRequest, dataset: Dataset, sql: string): Promise<RawPlan> {
  try {
    return validateRaw(await parseSql(sql), dataset, { granted: new Set(grant.columns), canTokenize: ctx.keys !== undefined });
  } catch (err: unknown) {
    if (err instanceof DpqError) {
      ctx.metrics.rawQueries.inc({ dataset: grant.dataset, outcome: 'refused' });
      await auditRefusal(ctx, actor, grant, 'access.raw_query', err, sql);
    }
    throw err;
  }
}

/** The rows as JSON, each column in clear or under its mask; the tokens made on the way. */
function maskRows(ctx: AccessContext, plan: RawPlan, dataset: string, rows: readonly (readonly Cell[])[]) {
  const tokenized = new Map<string, Tokenized>();
  const masked: Record<string, MaskKind> = {};
  for (const c of plan.columns) if (c.mask !== undefined) masked[c.ref] = maskKind(c.mask);
  const out = rows.map((row) => {
    const o: Record<string, JsonCell> = {};
    plan.columns.forEach((c, i) => {
      const cell = row[i] ?? null;
      o[c.name] = c.mask === undefined ? jsonCell(cell, NUMERIC_TYPES.has(c.policy.type)) : applyMask(c.mask, cell, { keys: ctx.keys, dataset, columnRef: c.domain, tokenized });
    });
    return o;
  });
  return { out, masked, tokenized };
}

export async function runRawQuery(ctx: AccessContext, actor: Actor, requestId: string, sql: string): Promise<RawQueryResponse> {
  const { services } = ctx;
  const { state, warehouse, policy, clock } = services;
  await settleExpired(ctx);
  const grant = await activeGrantOf(ctx, actor, requestId, 'access.raw_query');
  const dataset = policy.datasets[grant.dataset]!;
  const plan = await planFor(ctx, actor, grant, dataset, sql);
  const quotas = policy.access.raw;

  // Reserve: the grant must still be active under its row lock.
  const now = clock.now();
  let cap: number;
  try {
    cap = await state.transaction(async (tx) => {
      const g = await lockRequest(tx, grant.id);
      if (g === undefined || !isActiveGrant(g, now)) throw forbidden(`this grant is ${g === undefined ? 'gone' : effectiveStatus(g, now)}, not active`);
      if (g.queriesUsed >= quotas.maxQueriesPerGrant) throw quotaExceeded('queries', quotas.maxQueriesPerGrant);
      const rowsLeft = quotas.maxRowsPerGrant - g.rowsUsed;
      if (rowsLeft <= 0) throw quotaExceeded('rows', quotas.maxRowsPerGrant);
      const rows = Math.min(quotas.maxRowsPerQuery, rowsLeft);
      await reserveUsage(tx, g.id, rows);
      return rows;
    });
  } catch (err: unknown) {
    if (err instanceof DpqError) {
      ctx.metrics.rawQueries.inc({ dataset: grant.dataset, outcome: 'refused' });
      await auditRefusal(ctx, actor, grant, 'access.raw_query', err, sql);
    }
    throw err;
  }

  const redacted = await redact(sql);
  const fingerprint = await shapeFingerprint(sql).catch(() => null);
  const baseEntry = {
    actor: actor.principal.name,
    action: 'access.raw_query',
    dataset: grant.dataset,
    requestId: grant.id,
    httpRequestId: actor.httpRequestId,
    sqlRedacted: redacted,
    sqlFingerprint: fingerprint,
  };
  const columnsDetail = {
    columns: plan.columns.map((c) => c.ref),
    clear: [...new Set(plan.columns.filter((c) => c.mask === undefined).map((c) => c.ref))],
    filterColumns: plan.filterColumns,
    orderColumns: plan.orderColumns,
  };

  // A LIMIT within the cap is the caller's; otherwise one row more than the cap tells truncation.
  const fetch = plan.limit !== undefined && plan.limit <= BigInt(cap) ? Number(plan.limit) : cap + 1;
  const compiled = compileRaw(plan, fetch);
  let result;
  try {
    result = await warehouse.read(compiled.sql, compiled.params);
  } catch (err: unknown) {
    const code = err instanceof WarehouseError ? warehouseFailure(err).code : 'QUERY_FAILED';
    ctx.metrics.rawQueries.inc({ dataset: grant.dataset, outcome: 'failed' });
    await auditedTransaction(ctx.services, async (tx, record) => {
      await releaseRows(tx, grant.id, cap);
      await record([{ ...baseEntry, outcome: 'failed', code, rowCount: 0, details: columnsDetail }]);
    }).catch(() => undefined);
    throw err;
  }

  const truncated = result.rows.length > cap;
  const rows = truncated ? result.rows.slice(0, cap) : result.rows;
  const { out, masked, tokenized } = maskRows(ctx, plan, grant.dataset, rows);

  const usage = await auditedTransaction(ctx.services, async (tx, record) => {
    await releaseRows(tx, grant.id, cap - rows.length);
    if (tokenized.size > 0) await storeTokens(tx, ctx.keys!, grant.dataset, tokenized.values(), clock.now());
    await record([
      { ...baseEntry, outcome: 'answered', rowCount: rows.length, details: { ...columnsDetail, masked, truncated, tokens: tokenized.size } },
    ]);
    const g = await getRequest(tx, grant.id);
    return { queries: g?.queriesUsed ?? 0, rows: g?.rowsUsed ?? 0 };
  });
  ctx.metrics.rawQueries.inc({ dataset: grant.dataset, outcome: 'answered' });
  ctx.metrics.rawRows.inc({ dataset: grant.dataset }, rows.length);

  return {
    requestId: grant.id,
    dataset: grant.dataset,
    columns: plan.columns.map((c) => c.name),
    columnTypes: Object.fromEntries(plan.columns.map((c) => [c.name, c.mask === undefined ? c.policy.type : 'text'])),
    rows: out,
    masked,
    rowCount: rows.length,
    truncated,
    usage: { ...usage, maxQueries: quotas.maxQueriesPerGrant, maxRows: quotas.maxRowsPerGrant },
  };
}
