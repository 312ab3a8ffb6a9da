/**
 * Step 1 of the pipeline: SQL text → PostgreSQL parse tree, with libpg-query (the real PostgreSQL
 * grammar compiled to WASM), so dpq never disagrees with the warehouse about what a query says.
 *
 * Also the two derived forms of a query that leave this module:
 * - `fingerprint(sql)`: the replay-cache key. A hash of the parse tree without source locations, so
 *   whitespace, keyword case, comments and identifier quoting do not matter, but every literal does
 *   (`region = 'north'` and `region = 'south'` must never share a cached release).
 *   `shapeFingerprint(sql)` is the same hash with every literal blanked out: it groups queries of
 *   the same shape (for logs and the audit log), and must never key a cache.
 * - `redact(sql)`: the query for the audit log, with every literal replaced by `$n` (libpg-query
 *   `normalize`) and every comment removed, so that no data value written in a query is kept.
 */
import { createHash } from 'node:crypto';
import {
  hasSqlDetails,
  loadModule,
  normalizeSync,
  parseSync,
  scanSync,
  type Node,
  type RawStmt,
  type ScanToken,
} from 'libpg-query';
import { notAllowed, syntaxError } from './refuse.ts';
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

/**
 * The deepest nesting of parse-tree nodes a query may have (`NOT NOT …`, parentheses, calls, nested
 * subqueries). Real queries stay far below it; past it, recursive walks over the tree — dpq's own,
 * and libpg-query's WASM, whose stack frames V8's optimizing tier makes large — could run out of
 * stack. Checked on the parsed tree, before any recursive walk.
 */
export const MAX_NESTING_DEPTH = 64;

/** The nesting depth of parse-tree nodes under `root`, and the first node past `limit`, without recursion. */
function nesting(root: unknown, limit: number): { depth: number; tooDeep?: { location?: number } } {
  let depth = 0;
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [value, d] = stack.pop()!;
    if (Array.isArray(value)) {
      for (const item of value) stack.push([item, d]);
    } else if (value !== null && typeof value === 'object') {
      const keys = Object.keys(value);
      const inner = keys.length === 1 && /^[A-Z]/.test(keys[0]!) ? (value as Record<string, unknown>)[keys[0]!] : undefined;
      const here = inner !== undefined ? d + 1 : d;
      if (here > limit) return { depth: here, tooDeep: inner as { location?: number } };
      depth = Math.max(depth, here);
      for (const key of keys) stack.push([(value as Record<string, unknown>)[key], here]);
    }
  }
  return { depth };
}

function checkNesting(statements: readonly RawStmt[], source: SourceText): void {
  const { tooDeep } = nesting(statements, MAX_NESTING_DEPTH);
  if (tooDeep === undefined) return;
  const at = typeof tooDeep.location === 'number' ? source.fromByte(tooDeep.location, 0) : 0;
  throw notAllowed(
    'nesting depth',
    at,
    `The query nests expressions more than ${MAX_NESTING_DEPTH} levels deep.`,
    'Write it flatter: NOT NOT x is x, a chain of ANDs or ORs needs no parentheses, and IN (…) replaces nested ORs.',
  );
}

export async function parseSql(sql: string): Promise<ParsedSql> {
  await ready();
  const source = sourceText(sql);
  if (sql.trim() === '') throw syntaxError('The query is empty: send one SELECT statement.', 0);
  // The C parser would stop reading at a NUL and check only the text before it.
  const nul = sql.indexOf('\u0000');
  if (nul >= 0) throw syntaxError(`SQL syntax error at position ${nul}: the query contains a NUL character (U+0000)`, nul);
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
  checkNesting(statements, source);
  let tokens: ScanToken[] = [];
  try {
    tokens = scanSync(sql).tokens;
  } catch {
    // The parser accepted the text, so the scanner does too; stay total regardless.
  }
  return Object.freeze({ source, statements: Object.freeze(statements), tokens: Object.freeze(tokens) });
}

const POSITION_FIELDS = new Set(['location', 'stmt_location', 'stmt_len', 'rexpr_list_start', 'rexpr_list_end', 'list_start', 'list_end']);
/** Nodes that carry a value written in the query; the shape fingerprint keeps only their kind. */
const VALUE_NODES = new Set(['A_Const', 'ParamRef']);
const isValueNode = (v: unknown): boolean => v !== null && typeof v === 'object' && Object.keys(v).some((k) => VALUE_NODES.has(k));

/** The tree without source positions; `blind` also blanks every literal and folds lists of literals (IN lists) to one. */
function withoutPositions(value: unknown, blind = false): unknown {
  if (Array.isArray(value)) {
    if (blind && value.length > 1 && value.every(isValueNode)) return [{ A_Const: {} }];
    return value.map((v) => withoutPositions(v, blind));
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      if (blind && VALUE_NODES.has(key)) out[key] = {};
      else if (!POSITION_FIELDS.has(key)) out[key] = withoutPositions((value as Record<string, unknown>)[key], blind);
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

/**
 * The literal-blind fingerprint (16 hex digits): the same for queries that differ only in literal
 * values or in the length of a list of literals. Never a cache key. (Computed here rather than with
 * libpg-query's fingerprint, whose WASM recursion runs out of stack at about 14 nested levels once
 * V8 has optimized it.)
 */
export async function shapeFingerprint(sql: string): Promise<string> {
  const parsed = await parseSql(sql);
  const tree = withoutPositions(parsed.statements.map((s) => s.stmt), true);
  return createHash('sha256').update(`dpq-shape-v1\n${JSON.stringify(tree)}`).digest('hex').slice(0, 16);
}

const REDACTED_UNPARSEABLE = '<unparseable SQL>';
/** What the audit log keeps of a text that cannot be shown to hold no value: no SQL at all. */
export const REDACTED_NONE = '<SQL not kept: it cannot be redacted>';
/** Token texts that carry a value: quoted strings of every kind, numbers, bit strings, `$n`. */
const VALUE_TOKEN = /^(?:[0-9]|\.[0-9]|'|[eEbBxXnN]'|[uU]&'|\$)/;
const VALUE_TOKEN_NAMES = new Set(['SCONST', 'USCONST', 'FCONST', 'ICONST', 'BCONST', 'XCONST', 'PARAM']);
const PLACEHOLDER = /^\$[0-9]+$/;

const isComment = (t: ScanToken): boolean => t.tokenName === 'SQL_COMMENT' || t.tokenName === 'C_COMMENT';
const isValue = (t: ScanToken): boolean => VALUE_TOKEN_NAMES.has(t.tokenName) || VALUE_TOKEN.test(t.text);

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

/** libpg-query normalize with comments removed, for SQL that parses and is not too deep to walk. */
function normalized(sql: string): string | undefined {
  try {
    // normalize returns (rather than throws) the scanner's message for some unparseable text, which
    // quotes the text: only trust it on SQL that parses, and check that its output parses too.
    const tree = parseSync(sql).stmts ?? [];
    if (nesting(tree, MAX_NESTING_DEPTH).tooDeep !== undefined) return undefined;
    const text = normalizeSync(sql);
    parseSync(text);
    return rewriteTokens(text, (t) => (isComment(t) ? ' ' : undefined)).trim();
  } catch {
    return undefined;
  }
}

/** Every value-like token → `$n`, every comment removed, by the scanner alone (any statement kind). */
function scannerRedacted(sql: string): string | undefined {
  try {
    let n = 0;
    return rewriteTokens(sql, (t) => (isComment(t) ? ' ' : isValue(t) ? `$${++n}` : undefined)).trim();
  } catch {
    return undefined;
  }
}

/** True when the scanner reads all of `text` as tokens and none of them is a value or a comment. */
function holdsNoValue(text: string): boolean {
  try {
    const bytes = Buffer.from(text, 'utf8');
    let at = 0;
    for (const t of scanSync(text).tokens) {
      if (!/^\s*$/.test(bytes.subarray(at, t.start).toString('utf8'))) return false; // text the scanner skipped
      if (isComment(t) || (isValue(t) && !PLACEHOLDER.test(t.text))) return false;
      at = t.end;
    }
    return /^\s*$/.test(bytes.subarray(at).toString('utf8'));
  } catch {
    return false;
  }
}

/**
 * The query as the audit log may keep it: literals replaced by `$1`, `$2`, … and comments removed,
 * whatever the statement kind. libpg-query's normalize leaves the literals of some statements in
 * place (PREPARE, CREATE TABLE AS, CREATE VIEW, DDL defaults…), so its output is only used when
 * a scan finds no value left in it; otherwise the scanner redacts every value-like token. A text
 * that neither way can be shown to hold no value (a NUL, where the C scanner stops reading) is not
 * kept at all, nor is text that cannot be scanned.
 */
export async function redact(sql: string): Promise<string> {
  await ready();
  if (sql.includes('\u0000')) return REDACTED_NONE;
  for (const candidate of [normalized(sql), scannerRedacted(sql)]) {
    if (candidate !== undefined && holdsNoValue(candidate)) return candidate;
  }
  return scannerRedacted(sql) === undefined ? REDACTED_UNPARSEABLE : REDACTED_NONE;
}

/** The single-key wrapper of a parse-tree node: `{ColumnRef: {...}}` → `'ColumnRef'`. */
export function nodeKind(node: Node): string {
  return Object.keys(node)[0] ?? 'unknown';
}
