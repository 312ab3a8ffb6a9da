/**
 * The replay cache: a release is stored once and served again — byte-identical — to any principal
 * of the dataset who sends the same request (dataset, SQL parse-tree fingerprint, ε, δ, mechanism,
 * confidence) under the same dataset policy (bounds, domains, schema, contribution bounds: any
 * change gives new keys, so an answer computed under the old rules is never served) within the
 * dataset's `cacheTtl`, charging nothing. Shared by every replica through
 * the state store. A released answer is public to the dataset's principals, so sharing leaks
 * nothing new; serving it again costs no privacy (post-processing).
 */
import crypto from 'node:crypto';
import type { Dataset } from '../policy/schema.ts';
import type { StateQuery } from '../state/store.ts';

export interface CacheKeyParts {
  readonly dataset: string;
  readonly fingerprint: string;
  readonly epsilon: number;
  readonly delta: number;
  readonly mechanism: string;
  /** The reported intervals depend on it. */
  readonly confidence: number;
  /** `policyFingerprint` of the dataset the release was computed under. */
  readonly policy: string;
}

export function cacheKey(p: CacheKeyParts): string {
  return crypto
    .createHash('sha256')
    .update(JSON.stringify([p.dataset, p.fingerprint, p.epsilon, p.delta, p.mechanism, p.confidence, p.policy]))
    .digest('hex');
}

const policyFingerprints = new WeakMap<Dataset, string>();

/** A hash of a dataset's whole (parsed) policy: the same files give the same hash on every replica. */
export function policyFingerprint(dataset: Dataset): string {
  let fp = policyFingerprints.get(dataset);
  if (fp === undefined) {
    fp = crypto.createHash('sha256').update(JSON.stringify(dataset)).digest('hex');
    policyFingerprints.set(dataset, fp);
  }
  return fp;
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
