/**
 * The SQL front end, the only door into sql/ for the rest of dpq:
 *
 *   parse/     SQL text → PostgreSQL parse tree (libpg-query), fingerprints, redaction
 *   validate/  parse tree × dataset policy → the parts of a plan (clause by clause)
 *   plan/      the immutable query plan: node types, builder, sensitivities
 *   compile/   plan → one parametrized statement with per-unit contribution bounding
 *   raw/       the second plan kind: row-level SELECTs under a grant (validate → RawPlan → SQL),
 *              sharing the statement checks, the WHERE walker, literals and refusals above
 *
 * `planQuery` runs the first three (pure, never touching the warehouse); `compile` turns a plan
 * into the bounded query whose output contract the noise step reads (see docs/sql.md).
 */
import type { Dataset } from '../policy/schema.ts';
import { parseSql } from './parse/index.ts';
import type { QueryPlan } from './plan/index.ts';
import { validate, type ValidateOptions } from './validate/index.ts';

/** Parse and validate `sql` against `dataset`, returning its plan; throws SQL_SYNTAX or SQL_NOT_ALLOWED. */
export async function planQuery(sql: string, dataset: Dataset, options: ValidateOptions): Promise<QueryPlan> {
  return validate(await parseSql(sql), dataset, options);
}

export { compile, type CompiledQuery, type OutputColumn } from './compile/index.ts';
export { fingerprint, parseSql, ready, redact, shapeFingerprint } from './parse/index.ts';
export type { ParsedSql } from './parse/index.ts';
export type * from './plan/index.ts';
export { binLowerEdge, binOf, describePlan, HISTOGRAM_BINS, keyColumnsOf, l2 } from './plan/index.ts';
export { compileRaw, isClear, MAX_SELECT_ITEMS, validateRaw } from './raw/index.ts';
export type { CompiledRawQuery, RawColumn, RawOptions, RawOrderBy, RawPlan } from './raw/index.ts';
export { filterNodes, validate } from './validate/index.ts';
export type { ValidateOptions } from './validate/index.ts';
