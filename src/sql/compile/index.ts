/** Step 4, compile: a plan → one parametrized PostgreSQL statement. The only door into sql/compile/. */
export { compile, type CompiledQuery, type OutputColumn } from './compile.ts';
export { columnSql, filterSql, fromSql } from './expressions.ts';
export { ident, Params } from './sql-text.ts';
