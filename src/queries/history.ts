/**
 * Query history (`GET /v1/queries`, `GET /v1/queries/:id`): every answered query of a principal,
 * with the release as it was released, so that reading it again is post-processing and costs
 * nothing. A replay of a release the principal has in its history already is counted on that
 * entry, not listed again. The SQL is the caller's own text; auditors see the redacted text.
 */
import type { StateQuery } from '../state/store.ts';
import type { HistoryEntry } from '../http/schemas.ts';
import type { StoredRelease } from './execute.ts';

export interface HistoryInput {
  readonly principal: string;
  readonly at: Date;
  readonly sql: string;
  readonly redacted: string;
  readonly cached: boolean;
  readonly charged: { readonly epsilon: number; readonly delta: number };
  readonly release: StoredRelease;
}

export async function recordHistory(db: StateQuery, h: HistoryInput): Promise<void> {
  await db.query(
    `INSERT INTO dpq.query_history (principal, id, at, dataset, sql, sql_redacted, cached, epsilon, delta, row_count, body)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (principal, id) DO UPDATE SET replays = dpq.query_history.replays + 1`,
    [h.principal, h.release.id, h.at.toISOString(), h.release.dataset, h.sql, h.redacted, h.cached, h.charged.epsilon, h.charged.delta, h.release.rows.length, JSON.stringify(h.release)],
  );
}

interface Row {
  seq: string | number | bigint;
  id: string;
  at: Date | string;
  dataset: string;
  sql: string;
  sql_redacted: string;
  cached: boolean;
  epsilon: number;
  delta: number;
  row_count: number;
  replays: number;
  body?: string;
}

/** A stored release's mechanism, as the response schema types it. */
function mechanismOf(m: string): HistoryEntry['privacy']['mechanism'] {
  if (m === 'laplace' || m === 'gaussian') return m;
  throw new Error(`unexpected mechanism in a stored release: ${m}`);
}

const COLUMNS = 'seq, id, at, dataset, sql, sql_redacted, cached, epsilon, delta, row_count, replays, body';

function entryOf(r: Row, redacted: boolean): { entry: HistoryEntry; release: StoredRelease } {
  const release = JSON.parse(r.body!) as StoredRelease;
  const entry: HistoryEntry = {
    id: r.id,
    at: new Date(r.at).toISOString(),
    dataset: r.dataset,
    sql: redacted ? r.sql_redacted : r.sql,
    privacy: { epsilon: Number(r.epsilon), delta: Number(r.delta), mechanism: mechanismOf(release.privacy.mechanism), partitionSelection: release.privacy.partitionSelection, cached: r.cached },
    cached: r.cached,
    rowCount: Number(r.row_count),
    replays: Number(r.replays),
  };
  return { entry, release };
}

/** A principal's entries, newest first, before the entry `before` (an id) if given. */
export async function listHistory(db: StateQuery, principal: string, options: { limit: number; before?: string; redacted: boolean }): Promise<{ queries: HistoryEntry[]; next: string | null }> {
  const params: unknown[] = [principal, options.limit];
  let cursor = '';
  if (options.before !== undefined) {
    params.push(options.before);
    cursor = `AND seq < COALESCE((SELECT seq FROM dpq.query_history WHERE principal = $1 AND id = $3), 0)`;
  }
  const r = await db.query<Row>(`SELECT ${COLUMNS} FROM dpq.query_history WHERE principal = $1 ${cursor} ORDER BY seq DESC LIMIT $2`, params);
  const queries = r.rows.map((row) => entryOf(row, options.redacted).entry);
  return { queries, next: queries.length === options.limit ? queries.at(-1)!.id : null };
}

/** One entry with its release, or undefined when this principal has no such query. */
export async function readHistory(db: StateQuery, principal: string, id: string, redacted: boolean): Promise<(HistoryEntry & Pick<StoredRelease, 'columns' | 'rows' | 'accuracy'>) | undefined> {
  const r = await db.query<Row>(`SELECT ${COLUMNS} FROM dpq.query_history WHERE principal = $1 AND id = $2`, [principal, id]);
  const row = r.rows[0];
  if (row === undefined) return undefined;
  const { entry, release } = entryOf(row, redacted);
  return { ...entry, columns: release.columns, rows: release.rows, accuracy: release.accuracy };
}
