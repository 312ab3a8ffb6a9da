/**
 * The SQL front end: parse → validate → plan → compile. `planQuery` runs the first three (pure,
 * never touching the warehouse); `compile` turns a plan into the bounded query whose output
 * contract the noise step reads (see compile.ts and docs/sql.md).
 */
import type { Dataset } from '../policy/schema.ts';
import { parseSql } from './parse.ts';
import type { QueryPlan } from './plan.ts';
import { validate, type ValidateOptions } from './validate.ts';

/** Parse and validate `sql` against `dataset`, returning its plan; throws SQL_SYNTAX or SQL_NOT_ALLOWED. */
export async function planQuery(sql: string, dataset: Dataset, options: ValidateOptions): Promise<QueryPlan> {
  return validate(await parseSql(sql), dataset, options);
}

export { compile, type CompiledQuery, type OutputColumn } from './compile.ts';
export { describePlan } from './describe.ts';
export { binLowerEdge, binOf, HISTOGRAM_BINS, type HistogramSpec } from './histogram.ts';
export { fingerprint, parseSql, ready, redact, shapeFingerprint, type ParsedSql } from './parse.ts';
export type * from './plan.ts';
export { MEASURES_OF } from './plan.ts';
export { l2, type Sensitivity } from './sensitivity.ts';
export { validate, type ValidateOptions } from './validate.ts';
