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

export class DpqError extends Error {
  override readonly name = 'DpqError';
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details === undefined ? undefined : Object.freeze({ ...details });
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const invalidRequest = (message: string, details?: Record<string, unknown>): DpqError =>
  new DpqError('INVALID_REQUEST', message, details);
export const forbidden = (message: string, details?: Record<string, unknown>): DpqError =>
  new DpqError('FORBIDDEN', message, details);
export const notFound = (message: string, details?: Record<string, unknown>): DpqError =>
  new DpqError('NOT_FOUND', message, details);
export const conflict = (message: string, details?: Record<string, unknown>): DpqError =>
  new DpqError('CONFLICT', message, details);
export const unavailable = (): DpqError => new DpqError('UNAVAILABLE', FIXED_MESSAGES.UNAVAILABLE);
export const queryFailed = (): DpqError => new DpqError('QUERY_FAILED', FIXED_MESSAGES.QUERY_FAILED);
