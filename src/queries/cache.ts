/**
 * The replay cache: a release is stored once and served again — byte-identical — to any principal
 * of the dataset who sends the same request (dataset, SQL parse-tree fingerprint, ε, δ, mechanism,
 * confidence) within the dataset's `cacheTtl`, charging nothing. Shared by every replica through
 * the state store. A released answer is public to the dataset's principals, so sharing leaks
 * nothing new; serving it again costs no privacy (post-processing).
 */
import crypto from 'node:crypto';
import type { StateQuery } from '../state/store.ts';

export interface CacheKeyParts {
  readonly dataset: string;
  readonly fingerprint: string;
  readonly epsilon: number;
  readonly delta: number;
  readonly mechanism: string;
  readonly confidence: number;
}

export function cacheKey(p: CacheKeyParts): string {
  return crypto
    .createHash('sha256')
    .update(JSON.stringify([p.dataset, p.fingerprint, p.epsilon, p.delta, p.mechanism, p.confidence]))
    .digest('hex');
}

/** The stored body of a live entry, or undefined. */
export async function lookupRelease(db: StateQuery, key: string, now: Date): Promise<string | undefined> {
  const r = await db.query<{ body: string }>('SELECT body FROM dpq.release_cache WHERE key = $1 AND expires_at > $2', [key, now.toISOString()]);
  return r.rows[0]?.body;
}

/**
 * Store a release. When a live entry exists already (a concurrent identical request won), that
 * one stays; an expired one is replaced.
 */
export async function storeRelease(db: StateQuery, key: string, dataset: string, body: string, now: Date, ttlMs: number): Promise<void> {
  await db.query(
    `INSERT INTO dpq.release_cache (key, dataset, body, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (key) DO UPDATE SET body = EXCLUDED.body, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
     WHERE dpq.release_cache.expires_at <= EXCLUDED.created_at`,
    [key, dataset, body, now.toISOString(), new Date(now.getTime() + ttlMs).toISOString()],
  );
}
