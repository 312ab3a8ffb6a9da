/**
 * dpq error codes as SQLSTATEs (pgwire.md, Errors): an ErrorResponse with the dpq message, DETAIL
 * holding the code and its details as JSON, HINT where there is one and POSITION for SQL errors.
 */
import type { DpqError, ErrorCode } from '../errors.ts';
import type { ErrorFields } from './protocol.ts';

export const SQLSTATE: Readonly<Record<ErrorCode, string>> = {
  SQL_SYNTAX: '42601',
  SQL_NOT_ALLOWED: '0A000',
  INVALID_REQUEST: '22023',
  UNAUTHENTICATED: '28P01',
  FORBIDDEN: '42501',
  BUDGET_EXHAUSTED: '53400',
  QUOTA_EXCEEDED: '53400',
  NOT_FOUND: '42P01',
  CONFLICT: '55000',
  PAYLOAD_TOO_LARGE: '54000',
  RATE_LIMITED: '53000',
  QUERY_FAILED: 'XX000',
  INTERNAL: 'XX000',
  UNAVAILABLE: '57P03',
};

/** The ErrorResponse fields of a DpqError. */
export function errorFields(e: DpqError, severity: 'ERROR' | 'FATAL' = 'ERROR'): ErrorFields {
  const details = e.detailRecord;
  const position = typeof details.position === 'number' ? details.position + 1 : undefined; // 1-based on the wire
  const hint = typeof details.hint === 'string' ? details.hint : undefined;
  return {
    severity,
    code: SQLSTATE[e.code],
    message: e.message,
    detail: JSON.stringify({ code: e.code, details }),
    ...(hint === undefined ? {} : { hint }),
    ...(position === undefined ? {} : { position }),
  };
}

/** A protocol-level failure of the session itself (not of a statement). */
export const protocolViolation = (message: string): ErrorFields => ({ severity: 'FATAL', code: '08P01', message });
