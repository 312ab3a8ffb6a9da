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
}

export function cacheKey(p: CacheKeyParts): string {
  return crypto
    .createHash('sha256')
    .update(JSON.stringify([p.dataset, p.fingerprint, p.epsilon, p.delta, p.mechanism]))
    .digest('hex');
}

export interface CachedRelease {
  readonly body: string;
  readonly fingerprint: string;
  readonly redacted: string;
}

/** A live entry under any of `keys` (the first found), or undefined. */
export async function lookupRelease(db: StateQuery, keys: readonly string[], now: Date): Promise<CachedRelease | undefined> {
  const r = await db.query<{ body: string; fingerprint: string; sql_redacted: string }>(
    'SELECT body, fingerprint, sql_redacted FROM dpq.release_cache WHERE key = ANY($1::text[]) AND expires_at > $2 LIMIT 1',
    [keys, now.toISOString()],
  );
  const row = r.rows[0];
  return row === undefined ? undefined : { body: row.body, fingerprint: row.fingerprint, redacted: row.sql_redacted };
}

/**
 * Store a release under its keys (the parse-tree key, and the exact-text key that lets an
 * identical replay skip parsing). A live entry that exists already (a concurrent identical request
 * won) stays; an expired one is replaced.
 */
export async function storeRelease(db: StateQuery, keys: readonly string[], dataset: string, release: CachedRelease, now: Date, ttlMs: number): Promise<void> {
  await db.query(
    `INSERT INTO dpq.release_cache (key, dataset, body, fingerprint, sql_redacted, created_at, expires_at)
     SELECT k, $2, $3, $4, $5, $6, $7 FROM unnest($1::text[]) AS k
     ON CONFLICT (key) DO UPDATE SET body = EXCLUDED.body, fingerprint = EXCLUDED.fingerprint, sql_redacted = EXCLUDED.sql_redacted,
       created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
     WHERE dpq.release_cache.expires_at <= EXCLUDED.created_at`,
    [keys, dataset, release.body, release.fingerprint, release.redacted, now.toISOString(), new Date(now.getTime() + ttlMs).toISOString()],
  );
}

/** The exact-text stand-in for a fingerprint: identical SQL text always has the same parse tree. */
export function textFingerprint(sql: string): string {
  return `text:${crypto.createHash('sha256').update(sql).digest('hex')}`;
}
