/**
 * The shapes of the API responses the console reads. Those with a response schema come from
 * src/http/schemas.ts (the same zod schemas the server's OpenAPI document is generated from);
 * the rest list only the fields the pages use.
 */
import type * as api from '../../src/http/schemas.ts';

export type BudgetStatus = api.BudgetStatus;
export type Accuracy = api.Accuracy;
export type QueryAnswer = api.QueryAnswer;
export type Estimate = api.EstimateResponse;
export type RawAnswer = api.RawAnswer;
export type AuditEntry = api.AuditEntry;
export type AuditPage = api.AuditPage;
export type MetricRelease = api.MetricRelease;
export type HistoryEntry = api.HistoryEntry;
export type HistoryList = api.HistoryList;
export type HistoryDetail = api.HistoryDetail;
export type Me = api.Me;
export interface Amount {
  readonly limit: number;
  readonly spent: number;
  readonly remaining: number;
}


export interface DatasetBudget extends BudgetStatus {
  readonly dataset: string;
  readonly renews: string | null;
}

export type Sensitivity = 'none' | 'quasi' | 'pii';

export interface ColumnInfo {
  readonly type: string;
  readonly sensitivity: Sensitivity;
  readonly aggregate: boolean;
  readonly bounds?: readonly [unknown, unknown];
  readonly values?: readonly unknown[];
  readonly mask?: unknown;
}

export interface Dataset {
  readonly name: string;
  readonly description: string | null;
  readonly defaults: { readonly epsilon: number; readonly delta: number; readonly mechanism: 'laplace' | 'gaussian' };
  readonly limits: { readonly minEpsilon: number; readonly maxEpsilon: number; readonly maxDelta?: number };
  readonly tables: Readonly<Record<string, { readonly unit: string; readonly columns: Readonly<Record<string, ColumnInfo>> }>>;
}


export type Row = Readonly<Record<string, unknown>>;



export interface AccessRequestBody {
  kind: 'raw' | 'budget';
  dataset: string;
  columns?: string[];
  epsilon?: number;
  delta?: number;
  justification: string;
  ticket?: string;
  durationMinutes?: number;
}

export interface AccessRequest {
  readonly id: string;
  readonly kind: 'raw' | 'budget';
  readonly dataset: string;
  readonly status: 'pending' | 'approved' | 'denied' | 'expired' | 'revoked' | 'cancelled';
  readonly requester: string;
  readonly columns?: readonly string[];
  readonly columnSensitivity?: Readonly<Record<string, Sensitivity>>;
  readonly epsilon?: number;
  readonly delta?: number;
  readonly sensitivity: Sensitivity;
  readonly justification: string;
  readonly ticket: string | null;
  readonly durationMinutes: number | null;
  readonly breakGlass: boolean;
  readonly requiredApprovals: number;
  readonly approvals: readonly { readonly approver: string; readonly at: string; readonly comment: string | null }[];
  readonly createdAt: string;
  readonly pendingUntil: string;
  readonly expiresAt: string | null;
  readonly decidedBy: string | null;
  readonly reason: string | null;
  /** Kind raw: the grant this request extends (its columns are only the added ones). */
  readonly extends?: string | null;
  /** For those who may decide a pending request: the requester's budget and raw-access counts. */
  readonly requesterContext?: {
    readonly budget: { readonly epsilon: { readonly limit: number; readonly spent: number; readonly remaining: number } } | null;
    readonly rawAccess: { readonly since: string; readonly grants: number; readonly queries: number; readonly rows: number; readonly reveals: number; readonly denied: number; readonly breakGlass: number };
  };
  readonly usage?: { readonly queries: number; readonly rows: number; readonly maxQueries: number; readonly maxRows: number };
}



export type Verify = { readonly ok: true; readonly entries: number; readonly head: string } | { readonly ok: false; readonly firstBadSeq: number; readonly reason: string };

export interface MetricInfo {
  readonly name: string;
  readonly dataset: string;
  readonly description: string | null;
  readonly epsilon: number;
  readonly refresh: string;
  readonly budget: BudgetStatus;
}

