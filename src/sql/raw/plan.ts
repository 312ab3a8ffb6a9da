/**
 * The raw-query plan: the second plan kind of the front end, frozen data like the aggregate plan
 * (plan/nodes.ts), whose FROM and WHERE nodes it shares. compile.ts turns it into SQL once the
 * grant's row quota fixes the LIMIT.
 */
import type { Column, Mask } from '../../policy/schema.ts';
import type { ColumnNode, FilterNode, JoinNode, TableNode } from '../plan/index.ts';

/** One column of the result. `mask` is undefined when it is shown in clear. */
export interface RawColumn {
  readonly name: string;
  /** `table.column` */
  readonly ref: string;
  readonly column: ColumnNode;
  /** The token domain (policy/masks.ts `tokenDomain`). */
  readonly domain: string;
  readonly policy: Column;
  readonly mask: Mask | undefined;
}

export interface RawOrderBy {
  readonly column: ColumnNode;
  readonly direction: 'asc' | 'desc' | 'default';
  readonly nulls: 'first' | 'last' | 'default';
}

export interface RawPlan {
  readonly kind: 'raw';
  readonly tables: readonly TableNode[];
  readonly joins: readonly JoinNode[];
  readonly columns: readonly RawColumn[];
  /** WHERE, over columns shown in clear only. */
  readonly filter: FilterNode | undefined;
  readonly orderBy: readonly RawOrderBy[];
  /** `table.column`s used in WHERE and ORDER BY (all in clear). */
  readonly filterColumns: readonly string[];
  readonly orderColumns: readonly string[];
  /** The LIMIT and OFFSET written in the query, if any. */
  readonly limit: bigint | undefined;
  readonly offset: bigint | undefined;
}
