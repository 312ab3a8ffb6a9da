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

/** An entry as committed, with the time it carries. */
export interface CommittedEntry {
  readonly entry: AuditEntryInput;
  readonly at: Date;
}

/**
 * Called after each commit with the entries it holds (access/alerts.ts evaluates its rules on
 * them). An observer must not throw and must not block: it is called synchronously.
 */
export type AuditObserver = (entries: readonly CommittedEntry[]) => void;
const observers = new WeakMap<object, AuditObserver[]>();

/** Watch the entries committed through `deps` (one registry per service). */
export function observeAudit(deps: AuditDeps, observer: AuditObserver): void {
  const list = observers.get(deps) ?? [];
  list.push(observer);
  observers.set(deps, list);
}

export interface AuditDeps {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

export async function auditedTransaction<T>(deps: AuditDeps, fn: (tx: StateQuery, record: RecordAudit) => Promise<T>): Promise<T> {
  let checkpoints: AppendResult[] = [];
  let committed: CommittedEntry[] = [];
  const result = await deps.state.transaction(async (tx) => {
    checkpoints = []; // a retried attempt starts over
    committed = [];
    return fn(tx, async (entries) => {
      const at = deps.clock.now();
      const stamped = entries.map(withTransportDetail);
      const appended = await appendAudit(tx, at, stamped);
      checkpoints.push(...appended.filter((a) => a.checkpoint));
      for (const entry of stamped) committed.push({ entry, at });
      return appended.map((a) => a.seq);
    });
  });
  for (const c of checkpoints) deps.logger.info('audit checkpoint', { auditSeq: c.seq, auditHash: c.hash });
  if (committed.length > 0) for (const observe of observers.get(deps) ?? []) observe(committed);
  return result;
}

/** One audited transaction holding nothing but the entries. */
export async function recordAudit(deps: AuditDeps, entries: readonly AuditEntryInput[]): Promise<void> {
  await auditedTransaction(deps, (_tx, record) => record(entries));
}
