/**
 * The checks every query kind makes before it looks at a clause: one statement, a SELECT, no
 * Unicode escapes, and none of the SELECT clauses outside its subset. Aggregate and raw queries
 * share the detection and the positions; each kind says how it words the refusal.
 */
import type { SelectStmt } from 'libpg-query';
import { kindOf, notAllowed, type ParsedSql, positionOf } from '../parse/index.ts';

/** How a query kind words the statement-level refusals. */
export interface StatementWording {
  /** `query`, `raw query`: "Only one statement per …". */
  readonly noun: string;
  readonly multipleHint: string;
  notSelect(name: string): string;
  readonly notSelectHint: string;
}

/** Names of the statements a client might send instead of a SELECT, as PostgreSQL spells them. */
const STATEMENT_NAMES: Readonly<Record<string, string>> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  CreateStmt: 'CREATE TABLE',
  CreateTableAsStmt: 'CREATE TABLE AS',
  DropStmt: 'DROP',
  TransactionStmt: 'transaction control',
  VariableSetStmt: 'SET',
  VariableShowStmt: 'SHOW',
  CopyStmt: 'COPY',
  ExplainStmt: 'EXPLAIN',
  DoStmt: 'DO',
  CallStmt: 'CALL',
  PrepareStmt: 'PREPARE',
  ExecuteStmt: 'EXECUTE',
  LockStmt: 'LOCK',
  GrantStmt: 'GRANT',
  TruncateStmt: 'TRUNCATE',
};

/** The one SELECT of a parsed query; refuses a second statement, any other statement, U& escapes. */
export function selectStatementOf(parsed: ParsedSql, wording: StatementWording): SelectStmt {
  const { source } = parsed;
  const [first, second] = parsed.statements;
  if (second !== undefined) {
    throw notAllowed('multiple statements', source.fromByte(second.stmt_location, 0), `Only one statement per ${wording.noun} is allowed.`, wording.multipleHint);
  }
  const stmt = first!.stmt!;
  if (!('SelectStmt' in stmt)) {
    const kind = kindOf(stmt);
    const name = STATEMENT_NAMES[kind] ?? kind.replace(/Stmt$/, '');
    throw notAllowed(name, source.fromByte(first!.stmt_location, 0), wording.notSelect(name), wording.notSelectHint);
  }
  for (const t of parsed.tokens) {
    if (/^u&["']/i.test(t.text)) {
      throw notAllowed('unicode escape', source.fromByte(t.start), 'Unicode escapes (U&"…", U&\'…\') are not allowed.', 'Write identifiers and strings as plain text.');
    }
  }
  return stmt.SelectStmt;
}

/** The SELECT clauses a query kind may refuse, each detected and located the same way for all. */
export type Clause =
  | 'setOperation'
  | 'with'
  | 'values'
  | 'into'
  | 'locking'
  | 'distinct'
  | 'groupBy'
  | 'having'
  | 'window'
  | 'groupDistinct'
  | 'withTies';

/** A refusal's words; `construct` defaults to the clause's SQL name. */
export interface ClauseRefusal {
  readonly message: string;
  readonly hint: string;
}

/** Which clauses a query kind refuses, with its words (`setOperation` gets the operator's name). */
export type ClauseRules = Partial<Readonly<Record<Clause, ClauseRefusal | ((word: string) => ClauseRefusal)>>>;

/** The refusals every query kind words alike; a kind spreads them and adds its own. */
export const COMMON_CLAUSES = {
  setOperation: (word: string): ClauseRefusal => ({ message: `${word} is not allowed: one SELECT per query.`, hint: 'Send each SELECT as its own query.' }),
  values: { message: 'VALUES lists are not allowed.', hint: 'Query a dataset table.' },
  window: { message: 'WINDOW clauses are not allowed.', hint: 'Use plain aggregates with GROUP BY.' },
  withTies: { message: 'FETCH … WITH TIES is not allowed.', hint: 'Write LIMIT n.' },
} as const satisfies ClauseRules;

const CONSTRUCT: Readonly<Record<Exclude<Clause, 'setOperation'>, string>> = {
  with: 'WITH',
  values: 'VALUES',
  into: 'SELECT INTO',
  locking: 'locking clause',
  distinct: 'DISTINCT',
  groupBy: 'GROUP BY',
  having: 'HAVING',
  window: 'window function',
  groupDistinct: 'GROUP BY DISTINCT',
  withTies: 'WITH TIES',
};

const present = (list: readonly unknown[] | undefined): boolean => list !== undefined && list.length > 0;

/** Refuse the first clause of `s` that `rules` lists, at its position in the text. */
export function refuseClauses(s: SelectStmt, parsed: ParsedSql, rules: ClauseRules): void {
  const { source } = parsed;
  /** Position of the first token spelling `word` (for clauses the tree keeps no location of). */
  const at = (word: string, after = 0): number => {
    const t = parsed.tokens.find((x) => x.start >= after && x.text.toLowerCase() === word);
    return t === undefined ? 0 : source.fromByte(t.start);
  };
  const refuse = (clause: Clause, position: number, word = ''): void => {
    const rule = rules[clause];
    if (rule === undefined) return;
    const { message, hint } = typeof rule === 'function' ? rule(word) : rule;
    throw notAllowed(clause === 'setOperation' ? word : CONSTRUCT[clause], position, message, hint);
  };
  if (s.op !== undefined && s.op !== 'SETOP_NONE') {
    const word = s.op.replace('SETOP_', '');
    refuse('setOperation', at(word.toLowerCase()), word);
  }
  if (s.withClause !== undefined) refuse('with', source.fromByte(s.withClause.location, at('with')));
  if (present(s.valuesLists)) refuse('values', at('values'));
  if (s.intoClause !== undefined) refuse('into', positionOf(source, s.intoClause, at('into')));
  if (present(s.lockingClause)) refuse('locking', at('for'));
  if (present(s.distinctClause)) {
    const select = parsed.tokens.find((t) => t.text.toLowerCase() === 'select');
    refuse('distinct', at('distinct', select?.start ?? 0));
  }
  if (present(s.groupClause)) refuse('groupBy', at('group'));
  if (s.havingClause !== undefined) refuse('having', at('having'));
  if (present(s.windowClause)) refuse('window', at('window'));
  if (s.groupDistinct === true) refuse('groupDistinct', at('distinct'));
  if (s.limitOption === 'LIMIT_OPTION_WITH_TIES') refuse('withTies', at('ties'));
}
