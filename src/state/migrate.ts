/**
 * Apply the missing migrations under a transaction-scoped advisory lock, so that several replicas
 * starting together are safe: the first applies, the others wait and then find nothing to do.
 */
import { MIGRATIONS, type Migration } from './migrations.ts';
import type { StateStore } from './store.ts';

/** An arbitrary constant identifying dpq's migration lock (pg_advisory_xact_lock takes an int8). */
const MIGRATION_LOCK = 7_311_020_261_123n;

export async function migrate(store: StateStore, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return store.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    await tx.query('CREATE SCHEMA IF NOT EXISTS dpq');
    await tx.query(
      `CREATE TABLE IF NOT EXISTS dpq.schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set(
      (await tx.query<{ version: number }>('SELECT version FROM dpq.schema_migrations')).rows.map((r) => Number(r.version)),
    );
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      for (const statement of splitStatements(m.sql)) await tx.query(statement);
      await tx.query('INSERT INTO dpq.schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}

/** Split a migration on top-level semicolons (migrations hold no function bodies or strings with ';'). */
function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.replace(/--[^\n]*/g, '').trim())
    .filter((s) => s.length > 0);
}
