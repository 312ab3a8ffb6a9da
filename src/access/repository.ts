/**
 * Access requests in the state store (`dpq.access_requests`, `dpq.access_approvals`, see
 * migration 2). Plain reads and writes only: the decisions are in `lifecycle.ts`, and every
 * write happens inside a caller's transaction after `lockRequest` took the row lock, so that
 * concurrent decisions on any number of replicas are serialized by PostgreSQL.
 *
 * Times are stored as timestamptz and read back as epoch milliseconds, identical with both
 * drivers (whatever the session's TimeZone or DateStyle).
 */
import type { StateQuery } from '../state/store.ts';
import type { AccessRequest, Approval, Kind, Status } from './model.ts';
import type { ColumnSensitivity } from '../policy/schema.ts';

const ms = (col: string): string => `(extract(epoch FROM ${col}) * 1000)::int8 AS ${col}_ms`;

const SELECT = `SELECT id, kind, dataset, requester, status, columns, sensitivity, epsilon, delta, justification, ticket,
  duration_ms, break_glass, auto_approved, rule_index, approver_role, required_approvals,
  ${['created_at', 'pending_until', 'approved_at', 'expires_at', 'decided_at', 'review_due_at', 'reviewed_at'].map(ms).join(', ')},
  decided_by, reason, reviewed_by, queries_used, rows_used, reveals_used, extends
  FROM dpq.access_requests`;

interface Row {
  id: string;
  kind: string;
  dataset: string;
  requester: string;
  status: string;
  columns: string[] | null;
  sensitivity: string;
  epsilon: number | string | null;
  delta: number | string | null;
  justification: string;
  ticket: string | null;
  duration_ms: bigint | number | null;
  break_glass: boolean;
  auto_approved: boolean;
  rule_index: number;
  approver_role: string;
  required_approvals: number;
  created_at_ms: bigint | number;
  pending_until_ms: bigint | number;
  approved_at_ms: bigint | number | null;
  expires_at_ms: bigint | number | null;
  decided_at_ms: bigint | number | null;
  review_due_at_ms: bigint | number | null;
  reviewed_at_ms: bigint | number | null;
  decided_by: string | null;
  reason: string | null;
  reviewed_by: string | null;
  queries_used: number | bigint;
  rows_used: number | bigint;
  reveals_used: number | bigint;
  extends: string | null;
}

const date = (v: bigint | number | null): Date | null => (v === null ? null : new Date(Number(v)));
const num = (v: number | string | bigint | null): number | null => (v === null ? null : Number(v));

function fromRow(r: Row): AccessRequest {
  return Object.freeze({
    id: r.id,
    kind: r.kind as Kind,
    dataset: r.dataset,
    requester: r.requester,
    status: r.status as Status,
    columns: Object.freeze([...(r.columns ?? [])]),
    sensitivity: r.sensitivity as ColumnSensitivity,
    epsilon: num(r.epsilon),
    delta: num(r.delta),
    justification: r.justification,
    ticket: r.ticket,
    durationMs: num(r.duration_ms),
    breakGlass: r.break_glass,
    autoApproved: r.auto_approved,
    ruleIndex: Number(r.rule_index),
    approverRole: r.approver_role,
    requiredApprovals: Number(r.required_approvals),
    createdAt: date(r.created_at_ms)!,
    pendingUntil: date(r.pending_until_ms)!,
    approvedAt: date(r.approved_at_ms),
    expiresAt: date(r.expires_at_ms),
    decidedAt: date(r.decided_at_ms),
    decidedBy: r.decided_by,
    reason: r.reason,
    reviewDueAt: date(r.review_due_at_ms),
    reviewedAt: date(r.reviewed_at_ms),
    reviewedBy: r.reviewed_by,
    queriesUsed: Number(r.queries_used),
    rowsUsed: Number(r.rows_used),
    revealsUsed: Number(r.reveals_used),
    extends: r.extends,
  });
}

const isoOrNull = (d: Date | null): string | null => (d === null ? null : d.toISOString());

export async function insertRequest(tx: StateQuery, r: AccessRequest): Promise<void> {
  await tx.query(
    `INSERT INTO dpq.access_requests (id, kind, dataset, requester, status, columns, sensitivity, epsilon, delta, justification,
       ticket, duration_ms, break_glass, auto_approved, rule_index, approver_role, required_approvals, created_at, pending_until,
       approved_at, expires_at, decided_at, decided_by, review_due_at, extends)
     VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18::timestamptz, $19::timestamptz,
       $20::timestamptz, $21::timestamptz, $22::timestamptz, $23, $24::timestamptz, $25)`,
    [
      r.id, r.kind, r.dataset, r.requester, r.status, [...r.columns], r.sensitivity, r.epsilon, r.delta, r.justification,
      r.ticket, r.durationMs, r.breakGlass, r.autoApproved, r.ruleIndex, r.approverRole, r.requiredApprovals,
      r.createdAt.toISOString(), r.pendingUntil.toISOString(), isoOrNull(r.approvedAt), isoOrNull(r.expiresAt),
      isoOrNull(r.decidedAt), r.decidedBy, isoOrNull(r.reviewDueAt), r.extends,
    ],
  );
}

export async function getRequest(db: StateQuery, id: string): Promise<AccessRequest | undefined> {
  const r = await db.query<Row>(`${SELECT} WHERE id = $1`, [id]);
  return r.rows[0] === undefined ? undefined : fromRow(r.rows[0]);
}

/** Read and lock the request's row until the transaction ends. */
export async function lockRequest(tx: StateQuery, id: string): Promise<AccessRequest | undefined> {
  const r = await tx.query<Row>(`${SELECT} WHERE id = $1 FOR UPDATE`, [id]);
  return r.rows[0] === undefined ? undefined : fromRow(r.rows[0]);
}

/** The open request of a requester on a dataset for a kind (pending, or an approved raw grant), locked. */
export async function lockOpenRequest(tx: StateQuery, requester: string, dataset: string, kind: Kind): Promise<AccessRequest | undefined> {
  const r = await tx.query<Row>(
    `${SELECT} WHERE requester = $1 AND dataset = $2 AND kind = $3 AND extends IS NULL AND (status = 'pending' OR (status = 'approved' AND kind = 'raw')) FOR UPDATE`,
    [requester, dataset, kind],
  );
  return r.rows[0] === undefined ? undefined : fromRow(r.rows[0]);
}

export async function approvalsOf(db: StateQuery, ids: readonly string[]): Promise<Map<string, Approval[]>> {
  const out = new Map<string, Approval[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  const r = await db.query<{ request_id: string; approver: string; at_ms: bigint | number; comment: string | null }>(
    `SELECT request_id, approver, (extract(epoch FROM at) * 1000)::int8 AS at_ms, comment FROM dpq.access_approvals
     WHERE request_id = ANY($1::text[]) ORDER BY at, approver`,
    [[...ids]],
  );
  for (const row of r.rows) out.get(row.request_id)?.push({ approver: row.approver, at: new Date(Number(row.at_ms)), comment: row.comment });
  return out;
}

export async function insertApproval(tx: StateQuery, id: string, approver: string, at: Date, comment: string | null): Promise<void> {
  await tx.query('INSERT INTO dpq.access_approvals (request_id, approver, at, comment) VALUES ($1, $2, $3::timestamptz, $4)', [
    id,
    approver,
    at.toISOString(),
    comment,
  ]);
}

/** The fields a transition may set; unnamed ones keep their value. */
export interface Change {
  readonly status?: Status;
  readonly approvedAt?: Date;
  readonly expiresAt?: Date;
  readonly decidedAt?: Date;
  readonly decidedBy?: string;
  readonly reason?: string | null;
  readonly reviewedAt?: Date;
  readonly reviewedBy?: string;
  /** An extension approved: the grant's new scope and the rule that covers it. */
  readonly columns?: readonly string[];
  readonly sensitivity?: ColumnSensitivity;
  readonly ruleIndex?: number;
  readonly approverRole?: string;
}

/** Apply a transition to a row the caller has locked; returns the request as it now is. */
export async function updateRequest(tx: StateQuery, id: string, c: Change): Promise<AccessRequest> {
  const sets: string[] = [];
  const params: unknown[] = [id];
  const set = (col: string, value: unknown, cast = ''): void => {
    params.push(value);
    sets.push(`${col} = $${params.length}${cast}`);
  };
  if (c.status !== undefined) set('status', c.status);
  if (c.approvedAt !== undefined) set('approved_at', c.approvedAt.toISOString(), '::timestamptz');
  if (c.expiresAt !== undefined) set('expires_at', c.expiresAt.toISOString(), '::timestamptz');
  if (c.decidedAt !== undefined) set('decided_at', c.decidedAt.toISOString(), '::timestamptz');
  if (c.decidedBy !== undefined) set('decided_by', c.decidedBy);
  if (c.reason !== undefined) set('reason', c.reason);
  if (c.reviewedAt !== undefined) set('reviewed_at', c.reviewedAt.toISOString(), '::timestamptz');
  if (c.reviewedBy !== undefined) set('reviewed_by', c.reviewedBy);
  if (c.columns !== undefined) set('columns', [...c.columns], '::text[]');
  if (c.sensitivity !== undefined) set('sensitivity', c.sensitivity);
  if (c.ruleIndex !== undefined) set('rule_index', c.ruleIndex);
  if (c.approverRole !== undefined) set('approver_role', c.approverRole);
  if (sets.length > 0) await tx.query(`UPDATE dpq.access_requests SET ${sets.join(', ')} WHERE id = $1`, params);
  return (await getRequest(tx, id))!;
}

/**
 * Mark every request whose time has passed at `now` as expired — pending ones past their TTL,
 * raw grants past `expiresAt` — and return them. One UPDATE: a row changes once, whichever
 * replica gets there first (the other's UPDATE re-checks the condition after the row lock).
 */
export async function expireDue(tx: StateQuery, now: Date): Promise<AccessRequest[]> {
  const r = await tx.query<{ id: string }>(
    `UPDATE dpq.access_requests
        SET status = 'expired', decided_at = CASE WHEN status = 'pending' THEN pending_until ELSE expires_at END
      WHERE (status = 'pending' AND pending_until <= $1::timestamptz)
         OR (status = 'approved' AND kind = 'raw' AND expires_at <= $1::timestamptz)
      RETURNING id`,
    [now.toISOString()],
  );
  if (r.rows.length === 0) return [];
  const rows = await tx.query<Row>(`${SELECT} WHERE id = ANY($1::text[]) ORDER BY created_at, id`, [r.rows.map((x) => x.id)]);
  return rows.rows.map(fromRow);
}

export interface ListFilter {
  readonly status?: Status | undefined;
  readonly kind?: Kind | undefined;
  readonly dataset?: string | undefined;
  /** Only this requester's requests. */
  readonly requester?: string | undefined;
  /** Break-glass grants not reviewed by their deadline at this time. */
  readonly overdueAt?: Date | undefined;
  /**
   * Visibility: undefined sees everything; otherwise the principal's own requests and those whose
   * `approver_role|dataset` (or `approver_role|*`) is among `approverScopes`.
   */
  readonly visibleTo?: { readonly name: string; readonly approverScopes: readonly string[] } | undefined;
  readonly limit: number;
}

export async function listRequests(db: StateQuery, f: ListFilter): Promise<AccessRequest[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  if (f.status !== undefined) where.push(`status = ${p(f.status)}`);
  if (f.kind !== undefined) where.push(`kind = ${p(f.kind)}`);
  if (f.dataset !== undefined) where.push(`dataset = ${p(f.dataset)}`);
  if (f.requester !== undefined) where.push(`requester = ${p(f.requester)}`);
  if (f.overdueAt !== undefined) {
    where.push(`break_glass AND reviewed_at IS NULL AND review_due_at < ${p(f.overdueAt.toISOString())}::timestamptz`);
  }
  if (f.visibleTo !== undefined) {
    const scopes = p([...f.visibleTo.approverScopes]);
    where.push(
      `(requester = ${p(f.visibleTo.name)} OR (approver_role || '|' || dataset) = ANY(${scopes}::text[]) OR (approver_role || '|*') = ANY(${scopes}::text[]))`,
    );
  }
  const r = await db.query<Row>(
    `${SELECT}${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`} ORDER BY created_at DESC, id LIMIT ${p(f.limit)}`,
    params,
  );
  return r.rows.map(fromRow);
}

/** Requests matching a WHERE clause (the caller's, with its parameters), oldest first. */
export async function selectRequests(db: StateQuery, where: string, params: readonly unknown[]): Promise<AccessRequest[]> {
  const r = await db.query<Row>(`${SELECT} WHERE ${where} ORDER BY created_at, id`, params);
  return r.rows.map(fromRow);
}

/** The pending extension of a grant, locked. */
export async function lockPendingExtension(tx: StateQuery, grantId: string): Promise<AccessRequest | undefined> {
  const r = await tx.query<Row>(`${SELECT} WHERE extends = $1 AND status = 'pending' FOR UPDATE`, [grantId]);
  return r.rows[0] === undefined ? undefined : fromRow(r.rows[0]);
}

/** Raw-query quota: count one query and reserve `rows`, on a row the caller has locked. */
export async function reserveUsage(tx: StateQuery, id: string, rows: number): Promise<void> {
  await tx.query('UPDATE dpq.access_requests SET queries_used = queries_used + 1, rows_used = rows_used + $2 WHERE id = $1', [id, rows]);
}

/** Count tokens revealed under a grant. */
export async function countReveals(tx: StateQuery, id: string, revealed: number): Promise<void> {
  if (revealed > 0) await tx.query('UPDATE dpq.access_requests SET reveals_used = reveals_used + $2 WHERE id = $1', [id, revealed]);
}

/** Give back the part of a reservation a query did not use. */
export async function releaseRows(tx: StateQuery, id: string, rows: number): Promise<void> {
  if (rows > 0) await tx.query('UPDATE dpq.access_requests SET rows_used = GREATEST(0, rows_used - $2) WHERE id = $1', [id, rows]);
}
