/**
 * Which door a request came through, for the audit log: entries recorded while a wire-protocol
 * statement runs carry `details.transport: "pg"` (HTTP entries are unchanged). Carried in
 * AsyncLocalStorage so the services the statement calls need no extra parameter; read when an
 * entry is recorded, in the caller's context (not when a group commit writes it).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditEntryInput } from './entry.ts';

const current = new AsyncLocalStorage<string>();

export function withTransport<T>(transport: string, fn: () => Promise<T>): Promise<T> {
  return current.run(transport, fn);
}

export function withTransportDetail(entry: AuditEntryInput): AuditEntryInput {
  const transport = current.getStore();
  return transport === undefined ? entry : { ...entry, details: { ...entry.details, transport } };
}
