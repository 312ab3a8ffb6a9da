/**
 * The embedded warehouse: PGlite (PostgreSQL compiled to WASM, in process). Files live under
 * DPQ_DATA_DIR so data and budgets survive a restart; `undefined` keeps everything in memory
 * (tests). The same instance also serves as the embedded state store (see `state/pglite.ts`).
 */
import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { type ReadOptions, type ResultSet, type Warehouse, WarehouseError } from './adapter.ts';
import { PARSED_OIDS, parserFor } from './decode.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { sqlStateOf } from './errors.ts';
import { readPreamble } from './read-preamble.ts';

/** A PGlite that gives its data dir's lock back when it closes. */
class LockedPGlite extends PGlite {
  release: () => void = () => undefined;
  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      this.release();
    }
  }
}

/** Open (or create) an embedded database with exact type parsing; one process per data dir. */
export async function openPglite(dataDir: string | undefined): Promise<PGlite> {
  let release = (): void => undefined;
  if (dataDir !== undefined) {
    fs.mkdirSync(dataDir, { recursive: true });
    release = lockDataDir(dataDir);
  }
  const parsers = Object.fromEntries(PARSED_OIDS.map((oid) => [oid, parserFor(oid)]));
  try {
    const db = new LockedPGlite({ ...(dataDir === undefined ? {} : { dataDir }), parsers });
    db.release = release;
    await db.waitReady;
    return db;
  } catch (err: unknown) {
    release();
    throw err;
  }
}

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
