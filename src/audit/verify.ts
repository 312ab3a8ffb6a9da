/**
 * Verify the audit chain from the first entry to the head: seqs run 1, 2, 3 … without gaps, each
 * entry's prev_hash is the previous entry's hash, each hash recomputes from its content, the seq
 * inside the content matches the row, and the last entry is the recorded head (a deleted tail is
 * noticed). A checkpoint `{seq, hash}` kept outside (from the service log) can be checked too.
 * Names the first bad seq and why.
 */
import type { StateQuery } from '../state/store.ts';
import { chainHash, GENESIS_HASH } from './log.ts';

export type VerifyResult =
  | { readonly ok: true; readonly entries: number; readonly head: string }
  | { readonly ok: false; readonly firstBadSeq: number; readonly reason: string };

const BATCH = 5_000;

export async function verifyAudit(db: StateQuery, checkpoint?: { seq: number; hash: string }): Promise<VerifyResult> {
  let expectedSeq = 1;
  let prev = GENESIS_HASH;
  let checkpointSeen = checkpoint === undefined;
  for (;;) {
    const rows = (
      await db.query<{ seq: bigint; entry: string; prev_hash: string; hash: string }>(
        'SELECT seq, entry, prev_hash, hash FROM dpq.audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2',
        [expectedSeq, BATCH],
      )
    ).rows;
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) return { ok: false, firstBadSeq: expectedSeq, reason: `entry ${expectedSeq} is missing` };
      if (row.prev_hash !== prev) return { ok: false, firstBadSeq: seq, reason: 'prev_hash does not match the previous entry' };
      if (chainHash(prev, row.entry) !== row.hash) return { ok: false, firstBadSeq: seq, reason: 'hash does not match the entry' };
      let inner: unknown;
      try {
        inner = (JSON.parse(row.entry) as { seq?: unknown }).seq;
      } catch {
        inner = undefined;
      }
      if (inner !== seq) return { ok: false, firstBadSeq: seq, reason: 'the entry was moved from another position' };
      if (checkpoint !== undefined && seq === checkpoint.seq) {
        if (row.hash !== checkpoint.hash) return { ok: false, firstBadSeq: seq, reason: 'hash differs from the checkpoint' };
        checkpointSeen = true;
      }
      prev = row.hash;
      expectedSeq += 1;
    }
    if (rows.length < BATCH) break;
  }
  const entries = expectedSeq - 1;
  const head = (await db.query<{ seq: bigint; hash: string }>('SELECT seq, hash FROM dpq.audit_head WHERE id')).rows[0];
  if (head === undefined) return { ok: false, firstBadSeq: entries + 1, reason: 'the chain head record is missing' };
  if (Number(head.seq) !== entries || head.hash !== prev) {
    return {
      ok: false,
      firstBadSeq: Math.min(entries, Number(head.seq)) + 1,
      reason: Number(head.seq) > entries ? `entries after ${entries} were removed (head is ${head.seq})` : 'the chain head does not match the last entry',
    };
  }
  if (!checkpointSeen) return { ok: false, firstBadSeq: entries + 1, reason: `the log ends before checkpoint ${checkpoint!.seq}` };
  return { ok: true, entries, head: prev };
}
