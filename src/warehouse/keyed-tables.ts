/**
 * Which dataset tables hold at most one row per person, from the warehouse catalog: a plain table
 * or materialized view without inheritance children or partitions (`FROM parent` would read the
 * children's rows too), with a valid, immediate, non-partial unique index whose only key column is
 * the table's unit column. This is a planning hint only: a plan over keyed tables compiles to a
 * query that re-checks the same conditions in the snapshot of the read itself and bounds as usual
 * when they no longer hold (compile.ts, `keyedGuard`), so a catalog change after this lookup never
 * lets a person contribute more rows than the bounds. Without it every table is treated as unkeyed,
 * which is always safe.
 */
import type { Dataset } from '../policy/schema.ts';
import type { Warehouse } from './adapter.ts';

const UNIQUE_SINGLE_COLUMN_INDEXES = `
SELECT c.relname::text AS table_name, a.attname::text AS column_name
FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
WHERE n.nspname = $1::text
  AND c.relkind IN ('r', 'm')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhparent = c.oid)
  AND i.indisunique AND i.indisvalid AND i.indimmediate AND i.indnkeyatts = 1
  AND i.indpred IS NULL AND i.indexprs IS NULL`;

export async function findKeyedTables(warehouse: Warehouse, dataset: Dataset): Promise<ReadonlySet<string>> {
  const result = await warehouse.read(UNIQUE_SINGLE_COLUMN_INDEXES, [dataset.schema]);
  const keyed = new Set<string>();
  for (const [table, column] of result.rows) {
    if (typeof table !== 'string' || typeof column !== 'string') continue;
    const t = Object.hasOwn(dataset.tables, table) ? dataset.tables[table] : undefined;
    if (t !== undefined && t.unit === column) keyed.add(table);
  }
  return keyed;
}
