/**
 * A per-principal request limit (token bucket, per replica): `DPQ_RATE_LIMIT` requests per minute,
 * refilled continuously, with bursts up to the same number. Past it: 429 RATE_LIMITED with
 * Retry-After. It protects the warehouse and the state store from one runaway client; the privacy
 * budget, not this limit, is what bounds what a principal can learn.
 */
import type { RequestHandler } from 'express';
import { DpqError } from '../errors.ts';
import type { Clock } from '../clock.ts';
import { principalOf } from './middleware.ts';

interface Bucket {
  tokens: number;
  at: number;
}

export function rateLimit(perMinute: number, clock: Clock): RequestHandler {
  const buckets = new Map<string, Bucket>();
  const ratePerMs = perMinute / 60_000;
  return (_req, res, next) => {
    if (perMinute <= 0) return next();
    const name = principalOf(res).name;
    const now = clock.now().getTime();
    const b = buckets.get(name) ?? { tokens: perMinute, at: now };
    b.tokens = Math.min(perMinute, b.tokens + Math.max(0, now - b.at) * ratePerMs);
    b.at = now;
    buckets.set(name, b);
    if (b.tokens < 1) {
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - b.tokens) / ratePerMs / 1000));
      return next(new DpqError('RATE_LIMITED', `more than ${perMinute} requests a minute; try again in ${retryAfterSeconds} s`, { retryAfterSeconds }));
    }
    b.tokens -= 1;
    next();
  };
}
