/**
 * The embedded warehouse: PGlite (PostgreSQL compiled to WASM, in process). Files live under
 * DPQ_DATA_DIR so data and budgets survive a restart; `undefined` keeps everything in memory
 * (tests). The same instance also serves as the embedded state store (see `state/pglite.ts`).
 */
import type { PGlite } from '@electric-sql/pglite';
import { sqlStateOf } from '../postgres/errors.ts';
import { type ReadOptions, type ResultSet, type Warehouse, WarehouseError } from './adapter.ts';
import { readPreamble } from './read-preamble.ts';

export interface PgliteWarehouseOptions {
  readonly db: PGlite;
  readonly statementTimeoutMs: number;
  readonly role?: string | undefined;
  /** Close the PGlite instance with the warehouse (false when the state store shares it). */
  readonly owned?: boolean;
}

export function createPgliteWarehouse(options: PgliteWarehouseOptions): Warehouse {
  const { db } = options;
  return {
    kind: 'pglite',
    async read(sql: string, params: readonly unknown[], opts: ReadOptions = {}): Promise<ResultSet> {
      try {
        return await db.transaction(async (tx) => {
          await tx.exec(readPreamble(opts.timeoutMs ?? options.statementTimeoutMs, options.role, false));
          const r = await tx.query(sql, params as unknown[], { rowMode: 'array' });
          return { fields: r.fields.map((f) => f.name), rows: r.rows as unknown as ResultSet['rows'] };
        });
      } catch (err: unknown) {
        throw new WarehouseError(!db.closed, sqlStateOf(err), err);
      }
    },
    /** A trivial read through the same preamble as every query (READ ONLY, timeout, role). */
    async ping(): Promise<void> {
      if (db.closed) throw new WarehouseError(false, undefined, new Error('closed'));
      await this.read('SELECT 1', []);
    },
    async close(): Promise<void> {
      if (options.owned !== false && !db.closed) await db.close();
    },
  };
}
