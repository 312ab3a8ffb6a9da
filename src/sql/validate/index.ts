/** Step 2, validate: a parse tree checked against the dataset policy, clause by clause, into the parts
 * of a plan. The only door into sql/validate/. */
export { countLiteral, isLiteral, literalFor } from './literal.ts';
export { buildScope, type Scope } from './scope.ts';
export { validate, type ValidateOptions } from './validate.ts';
export { type ClauseRules, COMMON_CLAUSES, refuseClauses, selectStatementOf, type StatementWording } from './statement.ts';
export { type FilterColumn, filterNodes, filterOf } from './where.ts';
