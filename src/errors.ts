/**
 * The error model of api.md: every error a client sees carries one of these stable codes.
 *
 * Domain code throws (or returns) a `DpqError` with a code; `http/error-handler.ts` maps it to the
 * status below in one place. Anything that is not a `DpqError` becomes `INTERNAL` with a fixed
 * message, so no PostgreSQL text or stack trace reaches a client. `test/http/error-codes.test.ts`
 * fails when a code here is not documented in api.md.
 */

export const ERROR_STATUS = {
  INVALID_REQUEST: 400,
  SQL_SYNTAX: 400,
  SQL_NOT_ALLOWED: 422,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BUDGET_EXHAUSTED: 403,
  QUOTA_EXCEEDED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  QUERY_FAILED: 502,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Messages that never vary, whatever caused the error (they must not carry database text). */
export const FIXED_MESSAGES = {
  QUERY_FAILED: 'The warehouse failed the query after its privacy cost was spent.',
  INTERNAL: 'Internal error.',
  UNAVAILABLE: 'The warehouse or the state store cannot be reached; try again later.',
} as const;

type Amount = { readonly epsilon: number; readonly delta: number };

/**
 * The details each code carries (zod-style: one shape per code). `field` names the offending
 * request field; the other members are what api.md promises for the code, or what a client needs
 * to fix the request (limits, known names).
 */
export interface ErrorDetails {
  readonly INVALID_REQUEST: {
    readonly field?: string;
    readonly min?: number;
    readonly max?: number;
    readonly maxEpsilon?: number;
    readonly maxDelta?: number;
    readonly maxMinutes?: number;
    readonly known?: readonly string[];
    /** The wire protocol's session setting or bind parameter at fault, and the count it expects. */
    readonly setting?: string;
    readonly parameter?: number;
    readonly parameters?: number;
  };
  readonly SQL_SYNTAX: { readonly position: number };
  /** `position` and `hint` for SQL text; the wire protocol also refuses messages (no position). */
  readonly SQL_NOT_ALLOWED: { readonly construct: string; readonly position?: number; readonly hint?: string; readonly sqlState?: string | null };
  /** `reason`: which check a credential failed (api.md); the other members say when or which claim. */
  readonly UNAUTHENTICATED: { readonly reason: string; readonly expiredAt?: string; readonly startedAt?: string; readonly claim?: string };
  /** `condition`: the access-rule condition (sourceIps, hours) a raw query failed. */
  readonly FORBIDDEN: {
    readonly roles?: readonly string[];
    readonly status?: string;
    readonly sqlState?: string;
    readonly condition?: string;
    readonly sourceAddress?: string | null;
    /** The request field at fault, or the grant to use instead. */
    readonly field?: string;
    readonly grant?: string;
  };
  readonly BUDGET_EXHAUSTED:
    | { readonly metric: string }
    | {
        readonly required: Amount;
        readonly remaining: Amount;
        readonly scope: string;
        /** Bodies for POST /v1/access-requests that work as they are. */
        readonly requestAccess: Readonly<Record<string, unknown>>;
      };
  readonly QUOTA_EXCEEDED: { readonly quota: string; readonly limit: number };
  readonly NOT_FOUND: never;
  readonly CONFLICT: { readonly status?: string; readonly openRequestId?: string };
  readonly PAYLOAD_TOO_LARGE: never;
  readonly RATE_LIMITED: { readonly retryAfterSeconds: number };
  readonly QUERY_FAILED: never;
  readonly UNAVAILABLE: never;
  readonly INTERNAL: never;
}

/** An error a client sees: a stable code, a message, and the details of that code. */
export class DpqError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = 'DpqError';
  readonly code: C;
  /** The details of this code; narrow with `is(code)` to read them typed. */
  readonly details: ErrorDetails[C] | undefined;

  constructor(code: C, message: string, details?: ErrorDetails[C]) {
    super(message);
    this.code = code;
    this.details = details === undefined ? undefined : (Object.freeze({ ...details }) as ErrorDetails[C]);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  /** The details as a plain record, for code that handles every code alike (logs, the wire). */
  get detailRecord(): Readonly<Record<string, unknown>> {
    return this.details ?? {};
  }

  /** Narrows to one code, so that its details are typed. */
  is<K extends ErrorCode>(code: K): this is DpqError<K> {
    return (this.code as ErrorCode) === code;
  }
}

export const invalidRequest = (message: string, details?: ErrorDetails['INVALID_REQUEST']): DpqError<'INVALID_REQUEST'> =>
  new DpqError('INVALID_REQUEST', message, details);
export const forbidden = (message: string, details?: ErrorDetails['FORBIDDEN']): DpqError<'FORBIDDEN'> =>
  new DpqError('FORBIDDEN', message, details);
export const notFound = (message: string): DpqError<'NOT_FOUND'> => new DpqError('NOT_FOUND', message);
export const conflict = (message: string, details?: ErrorDetails['CONFLICT']): DpqError<'CONFLICT'> =>
  new DpqError('CONFLICT', message, details);
export const unavailable = (): DpqError<'UNAVAILABLE'> => new DpqError('UNAVAILABLE', FIXED_MESSAGES.UNAVAILABLE);
export const queryFailed = (): DpqError<'QUERY_FAILED'> => new DpqError('QUERY_FAILED', FIXED_MESSAGES.QUERY_FAILED);
