/** Request-scoped middleware: request ids, access logs and Prometheus request metrics, authentication, and the refusals of stalled bodies, NUL characters and OPTIONS. */
import crypto from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { errorBody } from './error-handler.ts';
import { DpqError } from '../errors.ts';
import type { Principal } from '../policy/authorize.ts';
import type { Services } from '../services.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Echo the caller's `x-request-id` (when it is a sane token) or make one. */
export const requestId: RequestHandler = (req, res, next) => {
  const given = req.get('x-request-id');
  const id = given !== undefined && REQUEST_ID.test(given) ? given : crypto.randomUUID();
  res.locals.requestId = id;
  res.setHeader('x-request-id', id);
  next();
};

function routeOf(req: Request, locals: Record<string, unknown>): string {
  const path = req.route?.path;
  const base = typeof locals.routeBase === 'string' ? locals.routeBase : req.baseUrl;
  return typeof path === 'string' ? `${base}${path}` : 'unmatched';
}

/** One log line and the request metrics per response — route, status, principal; never bodies. */
export function accessLog(services: Services): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const labels = { method: req.method, route: routeOf(req, res.locals), status: String(res.statusCode) };
      services.telemetry.httpRequests.inc(labels);
      services.telemetry.httpLatency.observe(labels, seconds);
      services.logger.info('request', {
        requestId: res.locals.requestId,
        principal: (res.locals.principal as Principal | undefined)?.name,
        ...labels,
        ms: Math.round(seconds * 1000),
      });
    });
    next();
  };
}

/** Authenticate every request of the router; the principal lands in `res.locals.principal`. */
export function authenticate(services: Services): RequestHandler {
  return async (req, res, next) => {
    res.locals.principal = await services.auth.authenticate(req.get('authorization'));
    next();
  };
}

/** The authenticated principal of a request (after `authenticate`). */
export function principalOf(res: { locals: Record<string, unknown> }): Principal {
  return res.locals.principal as Principal;
}

/**
 * A request that declares a body must deliver it within `ms`: otherwise it is answered 400 and its
 * connection closed, rather than held until the socket times out.
 */
export function bodyTimeout(ms: number): RequestHandler {
  return (req, res, next) => {
    const declared = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!declared || req.readableEnded) return next();
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      res.setHeader('Connection', 'close');
      const seconds = Math.round(ms / 100) / 10;
      res.status(400).json(errorBody(new DpqError('INVALID_REQUEST', `the request body did not arrive within ${seconds} s`, { field: 'body' })));
    }, ms);
    const clear = (): void => clearTimeout(timer);
    req.once('end', clear);
    res.once('close', clear);
    next();
  };
}

/**
 * `OPTIONS` is no operation of the API (dpq sends no CORS headers): it is answered like any method
 * a path does not have, with the JSON `404 NOT_FOUND`, instead of the router's plain-text list.
 */
export const refuseOptions: RequestHandler = (req, _res: Response, next) => {
  next(req.method === 'OPTIONS' ? new DpqError('NOT_FOUND', 'OPTIONS is not an operation of this API (it answers no CORS preflight)') : undefined);
};

/** The path (`a.b.0`) of the first string under `value` — key or value — that holds a NUL; without recursion. */
function nulAt(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return at;
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        const here = at === '' ? k : `${at}.${k}`;
        if (k.includes('\u0000')) return here;
        stack.push([child, here]);
      }
    }
  }
  return undefined;
}

/**
 * No text dpq keeps can hold U+0000 (PostgreSQL text cannot): a body, query string or path that
 * carries one is refused with 400 up front rather than failing where it is stored.
 */
export const refuseNul: RequestHandler = (req, _res, next) => {
  const inBody = nulAt(req.body);
  const inQuery = nulAt(req.query);
  const field = /%00/i.test(req.path) ? 'path' : inBody ?? (inQuery === undefined ? undefined : `query.${inQuery}`);
  next(field === undefined ? undefined : new DpqError('INVALID_REQUEST', `${field === '' ? 'the body' : field} contains a NUL character (U+0000)`, { field: field === '' ? 'body' : field }));
};
