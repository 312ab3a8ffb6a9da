/**
 * The one place where errors become responses: `{"error": {code, message, details}}` with the
 * status of `errors.ts`. Anything unexpected is logged (without data) and answered INTERNAL with a
 * fixed message; no stack trace or database text reaches a client.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { DpParameterError } from '../dp/index.ts';
import { DpqError, FIXED_MESSAGES, invalidRequest, unavailable } from '../errors.ts';
import { StateUnavailableError } from '../state/store.ts';
import { WarehouseError, warehouseFailure } from '../warehouse/adapter.ts';
import type { Logger } from '../log.ts';

/** Map any thrown value to a DpqError. */
export function toDpqError(err: unknown): DpqError {
  if (err instanceof DpqError) return err;
  if (err instanceof DpParameterError) return invalidRequest(err.message, { field: err.param });
  if (err instanceof StateUnavailableError) return unavailable();
  if (err instanceof WarehouseError) return warehouseFailure(err);
  // The router decodes path parameters; bad percent-encoding (`/v1/metrics/%ff`) is the caller's.
  if (err instanceof URIError) return invalidRequest('the request path is not valid percent-encoded UTF-8', { field: 'path' });
  // body-parser's errors carry a `type` and a `status`.
  if (err !== null && typeof err === 'object' && 'type' in err) {
    const type = (err as { type: unknown }).type;
    if (type === 'entity.too.large') return new DpqError('PAYLOAD_TOO_LARGE', 'request body is larger than 64 KiB');
    if (type === 'entity.parse.failed') return invalidRequest('request body is not valid JSON');
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      return invalidRequest('unsupported body encoding');
    }
  }
  // Any other client error of the body parser (a corrupt compressed body, an aborted upload).
  if (err !== null && typeof err === 'object' && 'status' in err && typeof err.status === 'number' && err.status >= 400 && err.status < 500 && 'expose' in err) {
    return invalidRequest('the request body cannot be read');
  }
  return new DpqError('INTERNAL', FIXED_MESSAGES.INTERNAL);
}

export function errorBody(e: DpqError): { error: { code: string; message: string; details?: Record<string, unknown> } } {
  return { error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: { ...e.details } }) } };
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const e = toDpqError(err);
    if (e.code === 'INTERNAL' || e.code === 'UNAVAILABLE' || e.code === 'QUERY_FAILED') {
      logger.error('request failed', {
        requestId: res.locals.requestId,
        route: req.route?.path ?? req.path,
        code: e.code,
        errorName: err instanceof Error ? err.name : typeof err,
        sqlState: err instanceof WarehouseError ? err.sqlState : undefined,
      });
    }
    if (e.is('RATE_LIMITED')) res.setHeader('Retry-After', String(e.details?.retryAfterSeconds ?? 1));
    if (res.headersSent) return;
    res.status(e.status).json(errorBody(e));
  };
}

export const notFoundHandler: RequestHandler = (_req, _res, next) => {
  next(new DpqError('NOT_FOUND', 'no such endpoint'));
};
