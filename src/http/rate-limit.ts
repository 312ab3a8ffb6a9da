/**
 * A per-principal request limit (token bucket, per replica): `DPQ_RATE_LIMIT` requests per minute,
 * refilled continuously, with bursts up to the same number. Past it: 429 RATE_LIMITED with
 * Retry-After. It protects the warehouse and the state store from one runaway client; the privacy
 * budget, not this limit, is what bounds what a principal can learn. One limiter per service, so
 * HTTP requests and wire-protocol statements draw from the same buckets.
 */
import type { RequestHandler } from 'express';
import { DpqError } from '../errors.ts';
import type { Clock } from '../clock.ts';
import { principalOf } from './middleware.ts';

interface Bucket {
  tokens: number;
  at: number;
}

/** Take one token for `principal`; a RATE_LIMITED error when there is none. */
export type RateLimiter = (principal: string) => DpqError | undefined;

const limiters = new WeakMap<object, RateLimiter>();

/** The limiter of a service (`owner`: its Services object), made on first use. */
export function rateLimiterOf(owner: { readonly config: { readonly rateLimitPerMinute: number }; readonly clock: Clock }): RateLimiter {
  let limiter = limiters.get(owner);
  if (limiter === undefined) limiters.set(owner, (limiter = createRateLimiter(owner.config.rateLimitPerMinute, owner.clock)));
  return limiter;
}

export function createRateLimiter(perMinute: number, clock: Clock): RateLimiter {
  const buckets = new Map<string, Bucket>();
  const ratePerMs = perMinute / 60_000;
  return (name) => {
    if (perMinute <= 0) return undefined;
    const now = clock.now().getTime();
    const b = buckets.get(name) ?? { tokens: perMinute, at: now };
    b.tokens = Math.min(perMinute, b.tokens + Math.max(0, now - b.at) * ratePerMs);
    b.at = now;
    buckets.set(name, b);
    if (b.tokens < 1) {
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - b.tokens) / ratePerMs / 1000));
      return new DpqError('RATE_LIMITED', `more than ${perMinute} requests a minute; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
    }
    b.tokens -= 1;
    return undefined;
  };
}

export function rateLimit(limiter: RateLimiter): RequestHandler {
  return (_req, res, next) => next(limiter(principalOf(res).name));
}
