/**
 * Announcements of request events to `access.notify.webhook`: a Slack-compatible JSON POST
 * (`{"text": …}` plus structured fields), sent after the transaction that made the event has
 * committed, in the background: a slow or dead receiver never delays or fails the request.
 * Each event is tried a few times with a per-attempt timeout and growing pauses, then dropped with
 * a warning in the log.
 *
 * No data values: ids, principals, dataset, column names, kind, status, times, the ticket id and,
 * for a denial or revocation, its reason (the requester must learn why; approvers write it for
 * the requester). The justification stays in dpq (audit log, GET on the request), since a
 * receiver such as a chat channel is wider than the approvers.
 */
import type { Logger } from '../log.ts';
import type { AccessRequest } from './model.ts';

export type NotifyEvent = 'created' | 'approved' | 'denied' | 'expired' | 'revoked' | 'cancelled' | 'break-glass' | 'reviewed';

export interface Notification {
  readonly event: NotifyEvent;
  readonly actor: string;
  readonly request: AccessRequest;
}

export interface NotifierOptions {
  readonly webhook: string | undefined;
  readonly logger: Logger;
  readonly attempts?: number;
  readonly timeoutMs?: number;
  /** Pause before the second attempt; doubles after each further failure. */
  readonly backoffMs?: number;
  readonly onResult?: (outcome: 'sent' | 'failed') => void;
  /** Called once per notification given up after every attempt (the dead-letter count). */
  readonly onDeadLetter?: (kind: string) => void;
  /** Adds to each request notification's body (Slack blocks, slack.ts). */
  readonly decorate?: (n: Notification, body: Record<string, unknown>) => Record<string, unknown>;
}

/** A notification that is not about a request (an alert): its body, and what it is for the log. */
export interface PlainNotification {
  readonly kind: string;
  readonly body: Record<string, unknown>;
  readonly logFields: Readonly<Record<string, unknown>>;
}

export interface Notifier {
  notify(events: readonly Notification[]): void;
  /** Send other notifications (alerts) the same way: in the background, never blocking. */
  send(items: readonly PlainNotification[]): void;
  /** Resolves once every notification sent so far has been delivered or given up (tests, shutdown). */
  idle(): Promise<void>;
}

function scope(r: AccessRequest): string {
  if (r.kind === 'budget') return `ε ${r.epsilon ?? 0}${r.delta ? `, δ ${r.delta}` : ''} more on ${r.dataset}`;
  return `raw rows of ${r.dataset}${r.columns.length > 0 ? ` with ${r.columns.join(', ')} in clear` : ''}`;
}

/** The reason of a denial or revocation: the requester must learn why (api.md). */
const because = (r: AccessRequest): string => (r.reason === null ? '' : ` — reason: ${r.reason}`);

function textOf(n: Notification): string {
  const r = n.request;
  const ticket = r.ticket === null ? '' : ` [${r.ticket}]`;
  const minutes = r.durationMs === null || r.kind === 'budget' ? '' : ` for ${r.durationMs / 60_000} min`;
  switch (n.event) {
    case 'created':
      if (r.extends !== null) {
        return `dpq: ${r.requester} asks to extend grant ${r.extends}${r.columns.length > 0 ? ` with ${r.columns.join(', ')} in clear` : ''}${minutes}${ticket} — ${r.id} needs ${r.requiredApprovals} approval(s) by ${r.approverRole}`;
      }
      return `dpq: ${r.requester} requests ${scope(r)}${minutes}${ticket} — ${r.id} needs ${r.requiredApprovals} approval(s) by ${r.approverRole}`;
    case 'approved':
      return `dpq: ${r.id} approved${r.autoApproved ? ' automatically' : ` by ${n.actor}`}: ${r.requester} gets ${scope(r)}${r.expiresAt === null ? '' : ` until ${r.expiresAt.toISOString()}`}${ticket}`;
    case 'denied':
      return `dpq: ${r.id} (${r.requester}, ${scope(r)}) denied by ${n.actor}${ticket}${because(r)}`;
    case 'expired':
      return `dpq: ${r.id} (${r.requester}, ${scope(r)}) expired${ticket}`;
    case 'revoked':
      return `dpq: ${r.id} (${r.requester}, ${scope(r)}) revoked by ${n.actor}${ticket}${because(r)}`;
    case 'cancelled':
      return `dpq: ${r.id} (${r.requester}, ${scope(r)}) cancelled by its requester${ticket}`;
    case 'break-glass':
      return `dpq: BREAK-GLASS — ${r.requester} granted itself ${scope(r)}${minutes}${ticket} (${r.id}); review due by ${r.reviewDueAt?.toISOString() ?? '?'}`;
    case 'reviewed':
      return `dpq: break-glass grant ${r.id} of ${r.requester} reviewed by ${n.actor}`;
  }
}

/** The JSON body: Slack's `text`, plus the same facts as fields for other receivers. */
export function payloadOf(n: Notification): Record<string, unknown> {
  const r = n.request;
  return {
    text: textOf(n),
    event: n.event,
    requestId: r.id,
    kind: r.kind,
    dataset: r.dataset,
    requester: r.requester,
    actor: n.actor,
    status: r.status,
    breakGlass: r.breakGlass,
    ...(r.kind === 'raw' ? { columns: [...r.columns], extends: r.extends } : { epsilon: r.epsilon, delta: r.delta }),
    ticket: r.ticket,
    ...(n.event === 'denied' || n.event === 'revoked' ? { reason: r.reason } : {}),
    requiredApprovals: r.requiredApprovals,
    expiresAt: r.expiresAt?.toISOString() ?? null,
    reviewDueAt: r.reviewDueAt?.toISOString() ?? null,
  };
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });

export function createNotifier(options: NotifierOptions): Notifier {
  const attempts = options.attempts ?? 3;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const backoffMs = options.backoffMs ?? 500;
  const inFlight = new Set<Promise<void>>();

  const deliver = async (url: string, item: PlainNotification): Promise<void> => {
    const body = JSON.stringify(item.body);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
        await res.body?.cancel().catch(() => undefined);
        if (res.ok) {
          options.onResult?.('sent');
          return;
        }
      } catch {
        // Refused, reset, timed out: try again below. The error text (a URL, an address) is not logged.
      }
      if (attempt < attempts) await sleep(backoffMs * 2 ** (attempt - 1));
    }
    options.onResult?.('failed');
    options.onDeadLetter?.(item.kind);
    options.logger.warn('notification not delivered', { kind: item.kind, ...item.logFields, attempts });
  };

  const enqueue = (items: readonly PlainNotification[]): void => {
    const url = options.webhook;
    if (url === undefined || items.length === 0) return;
    // In order: "created" before "approved" for an auto-approved request.
    const p = (async () => {
      for (const item of items) await deliver(url, item);
    })().catch(() => undefined);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  return {
    notify(events) {
      enqueue(
        events.map((n) => {
          const body = payloadOf(n);
          return { kind: 'access', body: options.decorate === undefined ? body : options.decorate(n, body), logFields: { event: n.event, requestId: n.request.id } };
        }),
      );
    },
    send(items) {
      enqueue(items);
    },
    async idle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}
