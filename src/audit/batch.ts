/**
 * Group commit for audit entries that record no state change of their own (replays served from
 * the cache, refusals): each caller waits until its entry is committed, but entries that arrive
 * while a commit is under way share the next transaction, so the chain head is locked once per
 * batch instead of once per request. Entries that record a change (a charge, a transition) stay in
 * the transaction of that change (record.ts), never here. Order within a process is kept.
 */
import type { AuditEntryInput } from './entry.ts';
import { type AuditDeps, recordAudit } from './record.ts';
import { withTransportDetail } from './transport.ts';

interface Pending {
  readonly entry: AuditEntryInput;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export const MAX_BATCH = 200;

export class AuditBatcher {
  readonly #deps: AuditDeps;
  #queue: Pending[] = [];
  #flushing = false;

  constructor(deps: AuditDeps) {
    this.#deps = deps;
  }

  /** Resolves once `entry` is committed to the chain; rejects when its batch could not be. */
  record(entry: AuditEntryInput): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ entry: withTransportDetail(entry), resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        try {
          await recordAudit(this.#deps, batch.map((p) => p.entry));
          for (const p of batch) p.resolve();
        } catch (err: unknown) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}

const batchers = new WeakMap<AuditDeps, AuditBatcher>();

/** The batcher of a service (one per runtime). */
export function auditBatcher(deps: AuditDeps): AuditBatcher {
  let b = batchers.get(deps);
  if (b === undefined) batchers.set(deps, (b = new AuditBatcher(deps)));
  return b;
}
