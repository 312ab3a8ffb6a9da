/**
 * Step 1 of the pipeline: SQL text → PostgreSQL parse tree, with libpg-query (the real PostgreSQL
 * grammar compiled to WASM), so dpq never disagrees with the warehouse about what a query says.
 *
 * Also the two derived forms of a query that leave this module:
 * - `fingerprint(sql)`: the replay-cache key. A hash of the parse tree without source locations, so
 *   whitespace, keyword case, comments and identifier quoting do not matter, but every literal does
 *   (`region = 'north'` and `region = 'south'` must never share a cached release).
 *   `shapeFingerprint(sql)` is libpg-query's own fingerprint, which ignores literal values: it groups
 *   queries of the same shape (for logs), and must never key a cache.
 * - `redact(sql)`: the query for the audit log, with every literal replaced by `$n` (libpg-query
 *   `normalize`) and every comment removed, so that no data value written in a query is kept.
 */
import { createHash } from 'node:crypto';
import {
  fingerprintSync,
  hasSqlDetails,
  loadModule,
  normalizeSync,
  parseSync,
  scanSync,
  type Node,
  type RawStmt,
  type ScanToken,
} from 'libpg-query';
import { syntaxError } from './refuse.ts';
import { sourceText, type SourceText } from './source.ts';

export interface ParsedSql {
  readonly source: SourceText;
  readonly statements: readonly RawStmt[];
  /** The scanner's tokens (byte offsets), for constructs the tree keeps no location of. */
  readonly tokens: readonly ScanToken[];
}

let loading: Promise<void> | undefined;

/** Resolves once the WASM parser is loaded; every function here awaits it. */
export function ready(): Promise<void> {
  loading ??= loadModule();
  return loading;
}

/** Parse with the PostgreSQL grammar; unparseable SQL is `SQL_SYNTAX` with its position. */
/** "SQL syntax error at position 7, near "FORM"" — or "at the end" when the text stops short. */
function syntaxMessage(sql: string, position: number): string {
  const near = /^\S{1,40}/.exec(sql.slice(position))?.[0];
  return near === undefined ? 'SQL syntax error at the end of the query' : `SQL syntax error at position ${position}, near "${near}"`;
}

export async function parseSql(sql: string): Promise<ParsedSql> {
  await ready();
  const source = sourceText(sql);
  if (sql.trim() === '') throw syntaxError('The query is empty: send one SELECT statement.', 0);
  let statements: RawStmt[];
  try {
    statements = parseSync(sql).stmts ?? [];
  } catch (err: unknown) {
    if (hasSqlDetails(err) && err.sqlDetails !== undefined) {
      // Our own words, pointing into the caller's SQL: the parser's message text is not passed on.
      const position = source.fromCodePoint(err.sqlDetails.cursorPosition);
      throw syntaxError(syntaxMessage(sql, position), position);
    }
    throw syntaxError('SQL syntax error', 0);
  }
  if (statements.length === 0) throw syntaxError('The query is empty: send one SELECT statement.', 0);
  let tokens: ScanToken[] = [];
  try {
    tokens = scanSync(sql).tokens;
  } catch {
    // The parser accepted the text, so the scanner does too; stay total regardless.
  }
  return Object.freeze({ source, statements: Object.freeze(statements), tokens: Object.freeze(tokens) });
}

const POSITION_FIELDS = new Set(['location', 'stmt_location', 'stmt_len', 'rexpr_list_start', 'rexpr_list_end', 'list_start', 'list_end']);

function withoutPositions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPositions);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      if (!POSITION_FIELDS.has(key)) out[key] = withoutPositions((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
}

/**
 * The replay-cache key of a query: sha256 (hex) of its parse tree without source positions.
 * Equal for queries that differ only in whitespace, comments, keyword case or needless quoting;
 * different whenever any literal, identifier or clause differs.
 */
export async function fingerprint(sql: string): Promise<string> {
  const parsed = await parseSql(sql);
  const tree = withoutPositions(parsed.statements.map((s) => s.stmt));
  return createHash('sha256').update(`dpq-sql-v1\n${JSON.stringify(tree)}`).digest('hex');
}

/** libpg-query's fingerprint: the same for queries that differ only in literal values. Never a cache key. */
export async function shapeFingerprint(sql: string): Promise<string> {
  await parseSql(sql);
  return fingerprintSync(sql);
}

const REDACTED_UNPARSEABLE = '<unparseable SQL>';
/** Token texts that carry a value: quoted strings of every kind, numbers, bit strings. */
const VALUE_TOKEN = /^(?:[0-9.]|'|[eEbBxXnN]'|[uU]&'|\$)/;
const VALUE_TOKEN_NAMES = new Set(['SCONST', 'USCONST', 'FCONST', 'ICONST', 'BCONST', 'XCONST', 'PARAM']);

/** Remove the byte ranges of the tokens `drop` selects, replacing each with `replacement`. */
function rewriteTokens(sql: string, drop: (t: ScanToken) => string | undefined): string {
  const bytes = Buffer.from(sql, 'utf8');
  const parts: Buffer[] = [];
  let at = 0;
  for (const t of scanSync(sql).tokens) {
    const replacement = drop(t);
    if (replacement === undefined) continue;
    parts.push(bytes.subarray(at, t.start), Buffer.from(replacement, 'utf8'));
    at = t.end;
  }
  parts.push(bytes.subarray(at));
  return Buffer.concat(parts).toString('utf8');
}

const isComment = (t: ScanToken): boolean => t.tokenName === 'SQL_COMMENT' || t.tokenName === 'C_COMMENT';

/**
 * The query as the audit log may keep it: literals replaced by `$1`, `$2`, … and comments removed.
 * Never contains a literal value written in the query; unparseable text that cannot be scanned
 * either is replaced as a whole.
 */
export async function redact(sql: string): Promise<string> {
  await ready();
  try {
    // normalize returns (rather than throws) the scanner's message for some unparseable text, which
    // quotes the text: only trust it on SQL that parses, and check that its output parses too.
    parseSync(sql);
    const normalized = normalizeSync(sql);
    parseSync(normalized);
    return rewriteTokens(normalized, (t) => (isComment(t) ? ' ' : undefined)).trim();
  } catch {
    // Not parseable: redact with the scanner alone (every value-like token and every comment).
  }
  try {
    let n = 0;
    return rewriteTokens(sql, (t) => {
      if (isComment(t)) return ' ';
      if (VALUE_TOKEN_NAMES.has(t.tokenName) || VALUE_TOKEN.test(t.text)) return `$${++n}`;
      return undefined;
    }).trim();
  } catch {
    return REDACTED_UNPARSEABLE;
  }
}

/** The single-key wrapper of a parse-tree node: `{ColumnRef: {...}}` → `'ColumnRef'`. */
export function nodeKind(node: Node): string {
  return Object.keys(node)[0] ?? 'unknown';
}
