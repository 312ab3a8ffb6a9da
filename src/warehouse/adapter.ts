/**
 * The warehouse adapter: the one seam between dpq and the engine that holds the data.
 *
 * Two implementations: `pg.ts` (a node-postgres Pool on DATABASE_URL) and `pglite.ts` (the
 * embedded PGlite). Both run every statement in a READ ONLY transaction with a statement timeout,
 * optionally as a low-privilege role, and both return values exactly: int8 as bigint, numeric as
 * its decimal string, date/timestamp as their ISO text — never a lossy float or a local-time Date.
 */

import { type DpqError, queryFailed, unavailable } from '../errors.ts';
import type { Cell } from '../postgres/types.ts';

/** A value as it comes back from the warehouse (arrays for int8[]/numeric[]/text[] results). */
export type { Cell };

export interface ResultSet {
  /** Output column names, in order (duplicates possible, hence rows are arrays). */
  readonly fields: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

export interface ReadOptions {
  /** statement_timeout for this statement; defaults to the adapter's. */
  readonly timeoutMs?: number;
}

export interface Warehouse {
  readonly kind: 'pg' | 'pglite';
  /**
   * Run one parametrized statement ($1, $2, …) in a READ ONLY transaction. Errors are thrown as
   * `WarehouseError` (the database text is kept for logs only, never shown to clients).
   */
  read(sql: string, params: readonly unknown[], options?: ReadOptions): Promise<ResultSet>;
  /** Resolves when the warehouse answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A failure inside the warehouse. `reached` is false when the statement never got there. */
export class WarehouseError extends Error {
  override readonly name = 'WarehouseError';
  constructor(
    readonly reached: boolean,
    readonly sqlState: string | undefined,
    cause: unknown,
  ) {
    super(reached ? `warehouse error ${sqlState ?? ''}`.trim() : 'warehouse unreachable', { cause });
  }
}

/**
 * What a client sees of a warehouse failure — the one place it is decided: 503 UNAVAILABLE when
 * the statement never reached the warehouse, 502 QUERY_FAILED otherwise, each with its fixed
 * message. The database's text and SQLSTATE stay in the log.
 */
export function warehouseFailure(err: WarehouseError): DpqError<'QUERY_FAILED' | 'UNAVAILABLE'> {
  return err.reached ? queryFailed() : unavailable();
}
