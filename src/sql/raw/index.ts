/** Raw queries, the second plan kind of the front end: validate → RawPlan → compileRaw. The only door into sql/raw/. */
export { compileRaw, type CompiledRawQuery } from './compile.ts';
export type { RawColumn, RawOrderBy, RawPlan } from './plan.ts';
export { exampleRawQuery, isClear, MAX_SELECT_ITEMS, type RawOptions, validateRaw } from './validate.ts';
