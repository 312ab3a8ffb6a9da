/** The PostgreSQL state store: a Pool on DPQ_STATE_URL, shared by every replica. */
import crypto from 'node:crypto';
import pg from 'pg';
import { checkOut, isUnreachable, sqlStateOf } from '../postgres/errors.ts';
import { exactTypes } from '../postgres/types.ts';
import { type Rows, type StateQuery, type StateStore, StateUnavailableError } from './store.ts';

const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 5;

function wrap(err: unknown): unknown {
  return isUnreachable(err) ? new StateUnavailableError(err) : err;
}

const MAX_NAMED = 500;
const names = new Map<string, string>();

/**
 * A statement with parameters as a named prepared statement: each connection parses and plans it
 * once and then only binds and executes it. The name is derived from the text, so one text has one
 * name on every connection. Statements without parameters stay unnamed (the simple protocol, where
 * a string may hold several statements). At most MAX_NAMED texts are named (the service's
 * statements are a few dozen), so a connection's prepared statements cannot grow without bound.
 */
export function statement(sql: string, params: readonly unknown[]): pg.QueryConfig {
  if (params.length === 0) return { text: sql };
  let name = names.get(sql);
  if (name === undefined && names.size < MAX_NAMED) {
    name = `dpq_${crypto.createHash('sha256').update(sql).digest('hex').slice(0, 32)}`;
    names.set(sql, name);
  }
  return name === undefined ? { text: sql, values: params as unknown[] } : { name, text: sql, values: params as unknown[] };
}

export function createPgStateStore(url: string, maxConnections = 10): StateStore {
  const pool = new pg.Pool({
    connectionString: url,
    max: maxConnections,
    types: exactTypes,
    connectionTimeoutMillis: 5_000,
    application_name: 'dpq-state',
  });
  pool.on('error', () => undefined);

  const query = async <T>(sql: string, params: readonly unknown[] = []): Promise<Rows<T>> => {
    try {
      const r = await pool.query(statement(sql, params));
      return { rows: r.rows as T[] };
    } catch (err: unknown) {
      throw wrap(err);
    }
  };

  return {
    kind: 'pg',
    query,
    async transaction<T>(fn: (tx: StateQuery) => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        let checkedOut: Awaited<ReturnType<typeof checkOut>>;
        try {
          checkedOut = await checkOut(pool);
        } catch (err: unknown) {
          throw new StateUnavailableError(err);
        }
        const { client } = checkedOut;
        let broken = false;
        // Errors the driver raised, as opposed to those of `fn` (a DpqError is an Error without a
        // code too, and must pass through as it is).
        const fromDriver = new WeakSet<object>();
        const run = async (sql: string, params: readonly unknown[] = []): Promise<pg.QueryResult> => {
          try {
            return await client.query(statement(sql, params));
          } catch (err: unknown) {
            if (err !== null && typeof err === 'object') fromDriver.add(err);
            throw err;
          }
        };
        try {
          await run('BEGIN');
          const tx: StateQuery = {
            query: async <R>(sql: string, params: readonly unknown[] = []) => ({
              rows: (await run(sql, params)).rows as R[],
            }),
          };
          const result = await fn(tx);
          await run('COMMIT');
          return result;
        } catch (err: unknown) {
          await client.query('ROLLBACK').catch(() => {
            broken = true;
          });
          const state = sqlStateOf(err);
          if (state !== undefined && RETRYABLE.has(state) && attempt < MAX_ATTEMPTS) continue;
          if (!(err !== null && typeof err === 'object' && fromDriver.has(err))) throw err;
          broken ||= isUnreachable(err);
          throw wrap(err);
        } finally {
          checkedOut.release(broken);
        }
      }
    },
    async ping(): Promise<void> {
      await query('SELECT 1');
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}
