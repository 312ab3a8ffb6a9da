/**
 * The PostgreSQL warehouse: a node-postgres Pool on DATABASE_URL (or any engine speaking the
 * protocol). Each read is `BEGIN READ ONLY` + local statement_timeout (+ local reader role), the
 * parametrized statement, `COMMIT` — on one pooled connection.
 */
import pg from 'pg';
import { type ReadOptions, type ResultSet, type Warehouse, WarehouseError } from './adapter.ts';
import { checkOut, isUnreachable, sqlStateOf } from '../postgres/errors.ts';
import { exactTypes } from '../postgres/types.ts';
import { readPreamble } from './read-preamble.ts';

export interface PgWarehouseOptions {
  readonly url: string;
  readonly statementTimeoutMs: number;
  /** Run reads as this role (SET LOCAL ROLE); see `reader-role.ts`. */
  readonly role?: string | undefined;
  readonly maxConnections?: number;
}

export function createPgWarehouse(options: PgWarehouseOptions): Warehouse {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    types: exactTypes,
    connectionTimeoutMillis: 5_000,
    application_name: 'dpq-warehouse',
  });
  // An idle client that loses its server must not crash the process.
  pool.on('error', () => undefined);

  return {
    kind: 'pg',
    async read(sql: string, params: readonly unknown[], opts: ReadOptions = {}): Promise<ResultSet> {
      let checkedOut: Awaited<ReturnType<typeof checkOut>>;
      try {
        checkedOut = await checkOut(pool);
      } catch (err: unknown) {
        throw new WarehouseError(false, sqlStateOf(err), err);
      }
      const { client } = checkedOut;
      let broken = false;
      try {
        await client.query(readPreamble(opts.timeoutMs ?? options.statementTimeoutMs, options.role));
        const r = await client.query({ text: sql, values: params as unknown[], rowMode: 'array' });
        await client.query('COMMIT');
        return { fields: r.fields.map((f) => f.name), rows: r.rows as ResultSet['rows'] };
      } catch (err: unknown) {
        broken = isUnreachable(err);
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        // The statement was sent: its cost is spent whatever happened (architecture.md).
        throw new WarehouseError(true, sqlStateOf(err), err);
      } finally {
        checkedOut.release(broken);
      }
    },
    /** A trivial read through the same preamble as every query (READ ONLY, timeout, role). */
    async ping(): Promise<void> {
      await this.read('SELECT 1', []);
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}
