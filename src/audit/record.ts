/**
 * Audited transactions: run `fn` in one state-store transaction with a `record` function that
 * appends audit entries to the chain inside it. After the commit, every checkpoint entry (one in
 * CHECKPOINT_EVERY) has its seq and hash written to the service log, an outside copy of the head
 * that `dpq audit verify <seq>:<hash>` checks, so a truncated tail can be noticed. Logged only
 * after commit: a rolled-back entry never appears as a checkpoint.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { StateQuery, StateStore } from '../state/store.ts';
import type { AuditEntryInput } from './entry.ts';
import { type AppendResult, appendAudit } from './log.ts';
import { withTransportDetail } from './transport.ts';

/** Append entries to the chain inside the transaction; resolves to their seqs (to name an entry in a later one). */
export type RecordAudit = (entries: readonly AuditEntryInput[]) => Promise<readonly number[]>;

export interface AuditDeps {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

export async function auditedTransaction<T>(deps: AuditDeps, fn: (tx: StateQuery, record: RecordAudit) => Promise<T>): Promise<T> {
  let checkpoints: AppendResult[] = [];
  const result = await deps.state.transaction(async (tx) => {
    checkpoints = []; // a retried attempt starts over
    return fn(tx, async (entries) => {
      const appended = await appendAudit(tx, deps.clock.now(), entries.map(withTransportDetail));
      checkpoints.push(...appended.filter((a) => a.checkpoint));
      return appended.map((a) => a.seq);
    });
  });
  for (const c of checkpoints) deps.logger.info('audit checkpoint', { auditSeq: c.seq, auditHash: c.hash });
  return result;
}

/** One audited transaction holding nothing but the entries. */
export async function recordAudit(deps: AuditDeps, entries: readonly AuditEntryInput[]): Promise<void> {
  await auditedTransaction(deps, (_tx, record) => record(entries));
}
