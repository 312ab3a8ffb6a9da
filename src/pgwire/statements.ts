/**
 * What a statement received over the wire is, decided from its parse tree (the real PostgreSQL
 * grammar, src/sql/parse.ts): a driver no-op, a setting, EXPLAIN, a catalog read, one of the
 * trivial session functions, or SQL for the pipeline. Anything that is not recognised as one of
 * the first kinds goes to the pipeline, which refuses it exactly as over HTTP.
 */
import type { Node, RawStmt } from 'libpg-query';
import type { ParsedSql } from '../sql/index.ts';

export type SessionFunction = 'current_database' | 'current_user' | 'current_schema' | 'version';

export type Statement =
  | { readonly kind: 'noop'; readonly tag: string; readonly transaction?: 'begin' | 'end' }
  | { readonly kind: 'set'; readonly name: string; readonly value: string }
  | { readonly kind: 'reset'; readonly name: string }
  | { readonly kind: 'resetAll' }
  | { readonly kind: 'show'; readonly name: string }
  | { readonly kind: 'explain'; readonly sql: string }
  | { readonly kind: 'session'; readonly columns: readonly { readonly name: string; readonly fn: SessionFunction }[] }
  | { readonly kind: 'catalog'; readonly sql: string }
  | { readonly kind: 'deallocate'; readonly name: string | undefined }
  | { readonly kind: 'data'; readonly sql: string };

type Json = Record<string, unknown>;

const CATALOG_SCHEMAS = new Set(['pg_catalog', 'information_schema']);

/** Each statement's own text (the parser's byte offsets). */
export function statementTexts(sql: string, parsed: ParsedSql): string[] {
  const bytes = Buffer.from(sql, 'utf8');
  return parsed.statements.map((s: RawStmt) => {
    const start = s.stmt_location ?? 0;
    const end = s.stmt_len === undefined || s.stmt_len === 0 ? bytes.length : start + s.stmt_len;
    return bytes.subarray(start, end).toString('utf8').trim();
  });
}

/** Every RangeVar of the tree (relations read), less the names of its CTEs. */
function relations(tree: unknown): { schema: string | undefined; name: string }[] {
  const found: { schema: string | undefined; name: string }[] = [];
  const ctes = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== 'object') return;
    const o = v as Json;
    if ('RangeVar' in o) {
      const r = o.RangeVar as Json;
      found.push({ schema: typeof r.schemaname === 'string' ? r.schemaname : undefined, name: String(r.relname ?? '') });
    }
    if ('CommonTableExpr' in o) ctes.add(String((o.CommonTableExpr as Json).ctename ?? ''));
    for (const k of Object.keys(o)) walk(o[k]);
  };
  walk(tree);
  return found.filter((r) => r.schema !== undefined || !ctes.has(r.name));
}

const isCatalogRelation = (r: { schema: string | undefined; name: string }): boolean =>
  r.schema === undefined ? r.name.startsWith('pg_') : CATALOG_SCHEMAS.has(r.schema);

const constText = (n: Node | undefined): string | undefined => {
  const c = (n as Json | undefined)?.A_Const as Json | undefined;
  if (c === undefined) return undefined;
  if (c.isnull === true) return '';
  const pick = (k: string, f: string): string | undefined => (c[k] === undefined ? undefined : String((c[k] as Json)[f] ?? (k === 'ival' ? 0 : k === 'boolval' ? false : '')));
  return pick('sval', 'sval') ?? pick('ival', 'ival') ?? pick('fval', 'fval') ?? pick('boolval', 'boolval');
};

function setStatement(s: Json, text: string): Statement {
  const name = String(s.name ?? '').toLowerCase();
  switch (s.kind) {
    case 'VAR_SET_VALUE': {
      const args = (s.args as Node[] | undefined) ?? [];
      const values = args.map(constText);
      // A value the grammar does not give as plain constants (INTERVAL '…', …): keep its text.
      const value = values.every((v) => v !== undefined) ? values.join(', ') : text.replace(/^[^=]*?(=|\bto\b)/i, '').trim();
      return { kind: 'set', name, value };
    }
    case 'VAR_SET_DEFAULT':
    case 'VAR_RESET':
      return { kind: 'reset', name };
    case 'VAR_RESET_ALL':
      return { kind: 'resetAll' };
    default:
      // SET TRANSACTION …, SET SESSION CHARACTERISTICS …, SET x FROM CURRENT: nothing to change.
      return { kind: 'noop', tag: 'SET' };
  }
}

const TRANSACTION_TAGS: Readonly<Record<string, { tag: string; transaction?: 'begin' | 'end' }>> = {
  TRANS_STMT_BEGIN: { tag: 'BEGIN', transaction: 'begin' },
  TRANS_STMT_START: { tag: 'START TRANSACTION', transaction: 'begin' },
  TRANS_STMT_COMMIT: { tag: 'COMMIT', transaction: 'end' },
  TRANS_STMT_ROLLBACK: { tag: 'ROLLBACK', transaction: 'end' },
  TRANS_STMT_SAVEPOINT: { tag: 'SAVEPOINT' },
  TRANS_STMT_RELEASE: { tag: 'RELEASE' },
  TRANS_STMT_ROLLBACK_TO: { tag: 'ROLLBACK' },
};

const SESSION_SVF: Readonly<Record<string, SessionFunction>> = {
  SVFOP_CURRENT_USER: 'current_user',
  SVFOP_SESSION_USER: 'current_user',
  SVFOP_USER: 'current_user',
  SVFOP_CURRENT_ROLE: 'current_user',
  SVFOP_CURRENT_CATALOG: 'current_database',
  SVFOP_CURRENT_SCHEMA: 'current_schema',
};
const SESSION_FUNCS = new Set<string>(['current_database', 'current_schema', 'version', 'current_user', 'session_user']);

/** `SELECT current_user, current_database(), version()`: answered from the session. */
function sessionFunctions(select: Json): Statement | undefined {
  if (select.fromClause !== undefined || select.whereClause !== undefined || select.op !== 'SETOP_NONE') return undefined;
  const columns: { name: string; fn: SessionFunction }[] = [];
  for (const t of (select.targetList as Json[] | undefined) ?? []) {
    const target = t.ResTarget as Json;
    const val = target.val as Json;
    let fn: SessionFunction | undefined;
    let name: string | undefined;
    if ('SQLValueFunction' in val) {
      const op = String((val.SQLValueFunction as Json).op);
      fn = SESSION_SVF[op];
      name = op.replace('SVFOP_', '').toLowerCase();
    } else if ('FuncCall' in val) {
      const call = val.FuncCall as Json;
      const parts = ((call.funcname as Json[]) ?? []).map((p) => String((p.String as Json | undefined)?.sval ?? ''));
      const last = parts[parts.length - 1] ?? '';
      const schemaOk = parts.length === 1 || (parts.length === 2 && parts[0] === 'pg_catalog');
      if (schemaOk && SESSION_FUNCS.has(last) && call.args === undefined) fn = last === 'session_user' ? 'current_user' : (last as SessionFunction);
      name = last;
    }
    if (fn === undefined) return undefined;
    columns.push({ name: typeof target.name === 'string' ? target.name : name!, fn });
  }
  return columns.length === 0 ? undefined : { kind: 'session', columns };
}

/** Classify one statement (`text` is its own SQL, `stmt` its tree). */
export function classify(text: string, stmt: Node): Statement {
  const node = stmt as Json;
  const [type] = Object.keys(node);
  const body = node[type!] as Json;
  switch (type) {
    case 'TransactionStmt': {
      const t = TRANSACTION_TAGS[String(body.kind)];
      return t === undefined ? { kind: 'data', sql: text } : { kind: 'noop', ...t };
    }
    case 'VariableSetStmt':
      return setStatement(body, text);
    case 'VariableShowStmt':
      return { kind: 'show', name: String(body.name ?? '').toLowerCase() };
    case 'DiscardStmt':
      return { kind: 'noop', tag: `DISCARD ${String(body.target ?? 'DISCARD_ALL').replace('DISCARD_', '')}` };
    case 'DeallocateStmt':
      return { kind: 'deallocate', name: body.isall === true ? undefined : String(body.name ?? '') };
    case 'ExplainStmt':
      return { kind: 'explain', sql: text.replace(/^\s*explain\s+(?:\((?:[^()]|\([^()]*\))*\)\s*|(?:analyze|analyse|verbose)\s+)*/i, '') };
    case 'SelectStmt': {
      const session = sessionFunctions(body);
      if (session !== undefined) return session;
      return relations(body).every(isCatalogRelation) ? { kind: 'catalog', sql: text } : { kind: 'data', sql: text };
    }
    default:
      return { kind: 'data', sql: text };
  }
}
