/**
 * The append-only, hash-chained audit log in the state store. Each entry's hash is
 * SHA-256(previous hash ‖ canonical JSON of the entry); the head row (`dpq.audit_head`) holds the
 * last seq and hash and is locked by every append, so there is one chain across all replicas.
 * `append` runs inside the caller's transaction: the entry commits with the change it records, or
 * neither does. Every CHECKPOINT_EVERY entries the head is also written to the service log, so a
 * truncated tail can be noticed against an outside copy.
 */
import crypto from 'node:crypto';
import type { StateQuery } from '../state/store.ts';
import { canonicalJson } from './canonical.ts';
import { type AuditEntry, type AuditEntryInput, entryContent } from './entry.ts';

export const GENESIS_HASH = '0'.repeat(64);
export const CHECKPOINT_EVERY = 100;

export function chainHash(prevHash: string, canonical: string): string {
  return crypto.createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

export interface AppendResult {
  readonly seq: number;
  readonly hash: string;
  /** True when this entry's seq is a checkpoint (the caller logs the head). */
  readonly checkpoint: boolean;
}

/** Append entries in order within `tx`; locks the chain head until the transaction ends. */
export async function appendAudit(tx: StateQuery, at: Date, entries: readonly AuditEntryInput[]): Promise<AppendResult[]> {
  if (entries.length === 0) return [];
  const head = await tx.query<{ seq: bigint; hash: string }>('SELECT seq, hash FROM dpq.audit_head WHERE id FOR UPDATE');
  let seq = Number(head.rows[0]!.seq);
  let prev = head.rows[0]!.hash;
  const out: AppendResult[] = [];
  const seqs: number[] = [];
  const texts: string[] = [];
  const prevs: string[] = [];
  const hashes: string[] = [];
  const iso = at.toISOString();
  for (const e of entries) {
    seq += 1;
    const text = canonicalJson(entryContent(seq, iso, e));
    const hash = chainHash(prev, text);
    seqs.push(seq);
    texts.push(text);
    prevs.push(prev);
    hashes.push(hash);
    out.push({ seq, hash, checkpoint: seq % CHECKPOINT_EVERY === 0 });
    prev = hash;
  }
  // One round trip for the rows and the new head, while the head lock is held.
  await tx.query(
    `WITH added AS (
       INSERT INTO dpq.audit_log (seq, at, entry, prev_hash, hash)
       SELECT s, $2::timestamptz, e, p, h FROM unnest($1::int8[], $3::text[], $4::text[], $5::text[]) AS t(s, e, p, h)
     )
     UPDATE dpq.audit_head SET seq = $6, hash = $7 WHERE id`,
    [seqs, iso, texts, prevs, hashes, seq, prev],
  );
  return out;
}

/** Parse a stored row back into an entry. */
export function storedEntry(row: { entry: string; prev_hash: string; hash: string }): AuditEntry {
  return { ...(JSON.parse(row.entry) as Omit<AuditEntry, 'prevHash' | 'hash'>), prevHash: row.prev_hash, hash: row.hash };
}

/** Entries after `after` (a seq), oldest first. */
export async function readAudit(db: StateQuery, after: number, limit: number): Promise<AuditEntry[]> {
  const r = await db.query<{ entry: string; prev_hash: string; hash: string }>(
    'SELECT entry, prev_hash, hash FROM dpq.audit_log WHERE seq > $1 ORDER BY seq LIMIT $2',
    [after, limit],
  );
  return r.rows.map(storedEntry);
}
