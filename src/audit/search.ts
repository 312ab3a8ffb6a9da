/**
 * Audit search (`GET /v1/audit` filters): entries matching every given filter, in seq order,
 * one page at a time. The entry's fields live in its canonical JSON text, so the filters read
 * them from there; `at` has its own column.
 */
import type { StateQuery } from '../state/store.ts';
import type { AuditEntry } from './entry.ts';
import { storedEntry } from './log.ts';

export interface AuditFilter {
  /** Each a list of accepted values (OR within a field, AND across fields). */
  readonly actor?: readonly string[];
  readonly action?: readonly string[];
  readonly dataset?: readonly string[];
  readonly outcome?: readonly string[];
  readonly from?: Date;
  readonly to?: Date;
}

export interface AuditPage {
  /** `asc`: seq > cursor, oldest first; `desc`: seq < cursor (none: from the newest), newest first. */
  readonly order: 'asc' | 'desc';
  readonly cursor: number | undefined;
  readonly limit: number;
}

const FIELDS = ['actor', 'action', 'dataset', 'outcome'] as const;

export async function searchAudit(db: StateQuery, filter: AuditFilter, page: AuditPage): Promise<{ entries: AuditEntry[]; next: number | null }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown): void => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  for (const f of FIELDS) {
    const values = filter[f];
    if (values !== undefined && values.length > 0) add((p) => `(entry::jsonb ->> '${f}') = ANY(${p}::text[])`, [...values]);
  }
  if (filter.from !== undefined) add((p) => `at >= ${p}::timestamptz`, filter.from.toISOString());
  if (filter.to !== undefined) add((p) => `at < ${p}::timestamptz`, filter.to.toISOString());
  if (page.cursor !== undefined) add((p) => `seq ${page.order === 'asc' ? '>' : '<'} ${p}`, page.cursor);
  params.push(page.limit);
  const r = await db.query<{ entry: string; prev_hash: string; hash: string }>(
    `SELECT entry, prev_hash, hash FROM dpq.audit_log ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
     ORDER BY seq ${page.order === 'asc' ? 'ASC' : 'DESC'} LIMIT $${params.length}`,
    params,
  );
  const entries = r.rows.map(storedEntry);
  return { entries, next: entries.length === page.limit ? entries.at(-1)!.seq : null };
}
