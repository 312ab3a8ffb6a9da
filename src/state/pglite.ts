/** The embedded state store: schema `dpq` in the same PGlite instance as the demo warehouse. */
import type { PGlite } from '@electric-sql/pglite';
import type { Rows, StateQuery, StateStore } from './store.ts';

export function createPgliteStateStore(db: PGlite, owned = false): StateStore {
  return {
    kind: 'pglite',
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<Rows<T>> {
      return { rows: (await db.query<T>(sql, params as unknown[])).rows };
    },
    async transaction<T>(fn: (tx: StateQuery) => Promise<T>): Promise<T> {
      return db.transaction(async (t) =>
        fn({ query: async <R>(sql: string, params: readonly unknown[] = []) => ({ rows: (await t.query<R>(sql, params as unknown[])).rows }) }),
      );
    },
    async ping(): Promise<void> {
      await db.query('SELECT 1');
    },
    async close(): Promise<void> {
      if (owned && !db.closed) await db.close();
    },
  };
}
