/**
 * What an audit entry holds — and, by construction, what it cannot: there is no field for a data
 * value or a literal. SQL appears only as its parse-tree fingerprint and with every literal
 * replaced by a placeholder; results only as row counts.
 *
 * `requestId` is the JIT access request the entry concerns (null otherwise); `httpRequestId` is the
 * `x-request-id` of the HTTP request that caused it, to correlate with the service log.
 */
export type AuditOutcome = 'answered' | 'cached' | 'refused' | 'failed' | 'ok' | 'denied';

export interface AuditEntryInput {
  readonly actor: string;
  readonly action: string;
  readonly dataset: string | null;
  readonly outcome: AuditOutcome;
  readonly epsilon?: number | null;
  readonly delta?: number | null;
  readonly sqlFingerprint?: string | null;
  readonly sqlRedacted?: string | null;
  readonly rowCount?: number | null;
  readonly requestId?: string | null;
  readonly httpRequestId?: string | null;
  /** A refusal or failure code from api.md (never a message that could quote data). */
  readonly code?: string | null;
  /** Structured, value-free details (column names, counts, durations, justification text). */
  readonly details?: Readonly<Record<string, unknown>> | null;
}

export interface AuditEntry extends Required<Omit<AuditEntryInput, 'details'>> {
  readonly seq: number;
  readonly at: string;
  readonly details: Readonly<Record<string, unknown>> | null;
  readonly prevHash: string;
  readonly hash: string;
}

/** The hashed content of an entry: every field but the hashes, with absent ones as null. */
export function entryContent(seq: number, at: string, e: AuditEntryInput): Omit<AuditEntry, 'prevHash' | 'hash'> {
  return {
    seq,
    at,
    actor: e.actor,
    action: e.action,
    dataset: e.dataset,
    outcome: e.outcome,
    epsilon: e.epsilon ?? null,
    delta: e.delta ?? null,
    sqlFingerprint: e.sqlFingerprint ?? null,
    sqlRedacted: e.sqlRedacted ?? null,
    rowCount: e.rowCount ?? null,
    requestId: e.requestId ?? null,
    httpRequestId: e.httpRequestId ?? null,
    code: e.code ?? null,
    details: e.details ?? null,
  };
}
