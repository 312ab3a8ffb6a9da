/**
 * The state store: budgets ledger, access requests and grants, answer cache and audit log, in
 * schema `dpq`. Every invariant that must hold across replicas is enforced by its transactions.
 * Two implementations: `pg.ts` (PostgreSQL, shared by replicas) and `pglite.ts` (embedded).
 */
import { sqlStateOf } from '../postgres/errors.ts';

export interface Rows<T> {
  readonly rows: T[];
}

export interface StateQuery {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Rows<T>>;
}

export interface StateStore extends StateQuery {
  readonly kind: 'pg' | 'pglite';
  /**
   * Run `fn` in one transaction; commit when it resolves, roll back when it throws. Serialization
   * failures and deadlocks are retried a few times. A store that cannot be reached throws
   * `StateUnavailableError`.
   */
  transaction<T>(fn: (tx: StateQuery) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The state store cannot be reached: the request fails closed with 503 UNAVAILABLE. */
export class StateUnavailableError extends Error {
  override readonly name = 'StateUnavailableError';
  constructor(cause: unknown) {
    super('state store unavailable', { cause });
  }
}

/** True when a statement failed on a unique constraint (SQLSTATE 23505): the row already exists. */
export function isUniqueViolation(err: unknown): boolean {
  return sqlStateOf(err) === '23505';
}
