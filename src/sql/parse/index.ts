/** Step 1, parse: SQL text → the PostgreSQL parse tree (libpg-query), fingerprints and redaction; plus
 * the source-position and refusal helpers every later step uses. The only door into sql/parse/. */
export { describeNode, kindOf, namesOf, positionOf, startOf } from './ast.ts';
export { fingerprint, MAX_NESTING_DEPTH, type ParsedSql, parseSql, ready, redact, shapeFingerprint } from './parse.ts';
export { notAllowed } from './refuse.ts';
export { type SourceText, sourceText } from './source.ts';
