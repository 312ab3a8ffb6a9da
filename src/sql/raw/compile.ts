/**
 * A raw plan → one parametrized SELECT, with the expressions of aggregate queries
 * (compile/expressions.ts): quoted identifiers under the compiler's table aliases, every literal a
 * parameter. `redact` columns are not even read (NULL is selected in their place); the LIMIT is
 * the one dpq chooses from the grant's row quota.
 */
import { columnSql, filterSql, fromSql, ident, Params } from '../compile/index.ts';
import type { RawOrderBy, RawPlan } from './plan.ts';

export interface CompiledRawQuery {
  readonly sql: string;
  readonly params: readonly string[];
}

const DIRECTION: Readonly<Record<RawOrderBy['direction'], string>> = { asc: ' ASC', desc: ' DESC', default: '' };
const NULLS: Readonly<Record<RawOrderBy['nulls'], string>> = { first: ' NULLS FIRST', last: ' NULLS LAST', default: '' };

/** SQL and parameters of `plan` with `rowLimit` as the LIMIT (and the query's own OFFSET). */
export function compileRaw(plan: RawPlan, rowLimit: number): CompiledRawQuery {
  const params = new Params();
  const select = plan.columns.map((c, i) => `${c.mask === 'redact' ? 'NULL' : columnSql(c.column)} AS ${ident(`c${i}`)}`).join(', ');
  let sql = `SELECT ${select} FROM ${fromSql(plan.tables, plan.joins, ' ')}`;
  if (plan.filter !== undefined) sql += ` WHERE ${filterSql(plan.filter, params)}`;
  if (plan.orderBy.length > 0) sql += ` ORDER BY ${plan.orderBy.map((o) => `${columnSql(o.column)}${DIRECTION[o.direction]}${NULLS[o.nulls]}`).join(', ')}`;
  sql += ` LIMIT ${params.add(BigInt(rowLimit), 'int8')}`;
  if (plan.offset !== undefined && plan.offset > 0n) sql += ` OFFSET ${params.add(plan.offset, 'int8')}`;
  return { sql, params: params.values };
}
