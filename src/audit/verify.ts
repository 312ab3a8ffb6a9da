/**
 * Verify the audit chain from the first entry to the head: seqs run 1, 2, 3 … without gaps, each
 * entry's prev_hash is the previous entry's hash, each hash recomputes from its content, the seq
 * inside the content matches the row, and the last entry is the recorded head (a deleted tail is
 * noticed). A checkpoint `{seq, hash}` kept outside (from the service log) can be checked too.
 * Then the log against the ledger: every query and metric-release entry carries what it charged
 * (0 when it records a release charged earlier), so the entries' ε and δ summed per account
 * (principal and dataset; `metric:<name>` for a metric) must equal the ledger's spent amounts.
 * Names the first bad seq and why.
 */
import { TOTAL } from '../budget/ledger.ts';
import type { StateQuery } from '../state/store.ts';
import type { AuditEntry } from './entry.ts';
import { chainHash, GENESIS_HASH } from './log.ts';

export type VerifyResult =
  | { readonly ok: true; readonly entries: number; readonly head: string }
  | { readonly ok: false; readonly firstBadSeq: number; readonly reason: string };

const BATCH = 5_000;

export async function verifyAudit(db: StateQuery, checkpoint?: { seq: number; hash: string }): Promise<VerifyResult> {
  let expectedSeq = 1;
  let prev = GENESIS_HASH;
  let checkpointSeen = checkpoint === undefined;
  const sums = new ChargeSums();
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
      let parsed: Partial<AuditEntry> | undefined;
      try {
        parsed = JSON.parse(row.entry) as Partial<AuditEntry>;
      } catch {
        parsed = undefined;
      }
      if (parsed?.seq !== seq) return { ok: false, firstBadSeq: seq, reason: 'the entry was moved from another position' };
      sums.add(parsed, seq);
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
  const mismatch = await sums.compareWithLedger(db);
  if (mismatch !== undefined) return { ok: false, firstBadSeq: mismatch.seq ?? entries + 1, reason: mismatch.reason };
  return { ok: true, entries, head: prev };
}

interface AccountSum {
  epsMicro: number;
  deltaPico: number;
  /** The last entry that charged this account (where a mismatch is reported). */
  lastSeq: number | undefined;
}

/** The audit log's charges per ledger account, in ledger units. */
class ChargeSums {
  readonly #accounts = new Map<string, AccountSum>();

  /** The ledger account an entry charges, or undefined for entries that never charge. */
  static accountOf(e: Partial<AuditEntry>): { principal: string; dataset: string } | undefined {
    if (typeof e.dataset !== 'string' || typeof e.actor !== 'string') return undefined;
    if (e.action === 'query') return { principal: e.actor, dataset: e.dataset };
    const metric = e.details?.metric;
    if (e.action === 'metric.release' && typeof metric === 'string') return { principal: `metric:${metric}`, dataset: e.dataset };
    return undefined;
  }

  #get(principal: string, dataset: string): AccountSum {
    const key = JSON.stringify([principal, dataset]);
    let a = this.#accounts.get(key);
    if (a === undefined) this.#accounts.set(key, (a = { epsMicro: 0, deltaPico: 0, lastSeq: undefined }));
    return a;
  }

  add(e: Partial<AuditEntry>, seq: number): void {
    const account = ChargeSums.accountOf(e);
    if (account === undefined) return;
    const eps = typeof e.epsilon === 'number' ? Math.round(e.epsilon * 1e6) : 0;
    const delta = typeof e.delta === 'number' ? Math.round(e.delta * 1e12) : 0;
    if (eps === 0 && delta === 0) return;
    const a = this.#get(account.principal, account.dataset);
    a.epsMicro += eps;
    a.deltaPico += delta;
    a.lastSeq = seq;
  }

  async compareWithLedger(db: StateQuery): Promise<{ seq: number | undefined; reason: string } | undefined> {
    const ledger = await db.query<{ principal: string; dataset: string; eps: string | bigint | number; delta: string | bigint | number }>(
      `SELECT principal, dataset, sum(eps_micro) AS eps, sum(delta_pico) AS delta FROM dpq.budget_accounts
       WHERE principal <> $1 GROUP BY principal, dataset ORDER BY principal, dataset`,
      [TOTAL],
    );
    const seen = new Set<string>();
    for (const row of ledger.rows) {
      const a = this.#get(row.principal, row.dataset);
      seen.add(JSON.stringify([row.principal, row.dataset]));
      const eps = Number(row.eps);
      const delta = Number(row.delta);
      if (a.epsMicro !== eps || a.deltaPico !== delta) return { seq: a.lastSeq, reason: differs(row.principal, row.dataset, a, eps, delta) };
    }
    for (const [key, a] of this.#accounts) {
      if (seen.has(key) || (a.epsMicro === 0 && a.deltaPico === 0)) continue;
      const [principal, dataset] = JSON.parse(key) as [string, string];
      return { seq: a.lastSeq, reason: differs(principal, dataset, a, 0, 0) };
    }
    return undefined;
  }
}

function differs(principal: string, dataset: string, a: AccountSum, eps: number, delta: number): string {
  return `the log charges ${principal} on ${dataset} ε=${a.epsMicro / 1e6}, δ=${a.deltaPico / 1e12}; the ledger has spent ε=${eps / 1e6}, δ=${delta / 1e12}`;
}
