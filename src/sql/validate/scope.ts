/**
 * The FROM clause: which dataset tables a query reads, under which names, joined how — and the
 * name resolution of every column reference against them, the way PostgreSQL resolves it.
 *
 * PostgreSQL's parser has already folded unquoted identifiers to lower case and kept quoted ones
 * exact; policy names are lower-case SQL identifiers, so `Visits` and `"visits"` name the policy's
 * `visits` table and `"Visits"` names nothing. A table is visible under its alias when it has one
 * (then only under it), else under its name; `schema.table` only for the dataset's schema.
 * Joins: only inner equi-joins on unit columns that the policy's `joins` declares, `ON a.u = b.u`
 * or `USING (u)`, one table at a time (left-deep), each table once.
 */
import type { ColumnRef, JoinExpr, Node, RangeVar } from 'libpg-query';
import type { Column, Dataset, Table } from '../../policy/schema.ts';
import { describeNode, kindOf, namesOf, notAllowed, positionOf, type SourceText, startOf } from '../parse/index.ts';
import type { ColumnNode, JoinNode, TableNode } from '../plan/index.ts';

export interface Scope {
  readonly tables: readonly TableNode[];
  readonly joins: readonly JoinNode[];
  /** Resolve a column reference; refuses unknown, ambiguous and `*` references. */
  resolve(ref: ColumnRef, context: string): ColumnNode;
  /** Like `resolve` for a one-part name, but undefined when no table has it (for alias fallbacks). */
  tryResolveName(name: string, position: number): ColumnNode | undefined;
  policyOf(column: ColumnNode): Column;
  tablePolicy(index: number): Table;
  /** The column is some table's unit. */
  isUnit(column: ColumnNode): boolean;
}

export interface ScopeOptions {
  readonly keyedTables?: ReadonlySet<string> | undefined;
}

const MAX_TABLES = 8;

/** The FROM clause being read: its tables and joins so far, and how names resolve among them. */
class ScopeBuilder {
  readonly tables: TableNode[] = [];
  readonly joins: JoinNode[] = [];
  /** Names merged by USING: resolve unqualified to the leftmost table's column. */
  readonly merged = new Map<string, number>();

  constructor(
    readonly dataset: Dataset,
    readonly source: SourceText,
    readonly options: ScopeOptions,
  ) {}

  addTable(rv: RangeVar): TableNode {
    const { dataset, tables } = this;
    const position = this.source.fromByte(rv.location);
    const name = rv.relname ?? '';
    const shown = [rv.catalogname, rv.schemaname, name].filter((s) => s !== undefined).join('.');
    if (rv.catalogname !== undefined) {
      throw notAllowed(`table ${shown}`, position, `"${shown}" names a database; only tables of the dataset are readable.`, `Write the table name alone: FROM ${name}.`);
    }
    if (rv.schemaname !== undefined && rv.schemaname !== dataset.schema) {
      throw notAllowed(
        `table ${shown}`,
        position,
        `"${shown}" is outside the dataset: only tables of schema "${dataset.schema}" declared in the policy can be queried.`,
        `Query one of the dataset tables: ${Object.keys(dataset.tables).join(', ')}.`,
      );
    }
    const policy = Object.hasOwn(dataset.tables, name) ? dataset.tables[name] : undefined;
    if (policy === undefined) {
      throw notAllowed(
        `table ${shown}`,
        position,
        `"${shown}" is not a table of this dataset.`,
        `Query one of the dataset tables: ${Object.keys(dataset.tables).join(', ')}.`,
      );
    }
    if (rv.alias?.colnames !== undefined && rv.alias.colnames.length > 0) {
      throw notAllowed('column aliases in FROM', position, 'Renaming the columns of a table in FROM is not allowed.', `Write FROM ${name} AS ${rv.alias.aliasname ?? 't'} and use the policy's column names.`);
    }
    if (tables.some((t) => t.name === name)) {
      throw notAllowed(`table ${name}`, position, `The table ${name} appears twice (a self-join).`, 'Read each table once.');
    }
    if (tables.length >= MAX_TABLES) throw notAllowed('join', position, 'Too many tables.', `Join at most ${MAX_TABLES} tables.`);
    const alias = rv.alias?.aliasname;
    const visible = alias ?? name;
    if (tables.some((t) => (t.alias ?? t.name) === visible)) {
      throw notAllowed(`table ${visible}`, position, `The name "${visible}" is used for two tables.`, 'Give each table its own alias.');
    }
    const node: TableNode = {
      kind: 'table',
      index: tables.length,
      schema: dataset.schema,
      name,
      alias,
      unit: policy.unit,
      maxRowsPerUnit: policy.maxRowsPerUnit,
      maxGroupsPerUnit: policy.maxGroupsPerUnit,
      keyed: this.options.keyedTables?.has(name) ?? false,
      position,
    };
    tables.push(node);
    return node;
  }

  policyOf(c: ColumnNode): Column {
    return this.dataset.tables[this.tables[c.table]!.name]!.columns[c.name]!;
  }

  column(t: TableNode, name: string, position: number): ColumnNode | undefined {
    const p = this.dataset.tables[t.name]!.columns;
    if (!Object.hasOwn(p, name)) return undefined;
    return { kind: 'column', table: t.index, name, type: p[name]!.type, position };
  }

  unknownColumn(name: string, position: number, among: readonly TableNode[]): Error {
    const names = among.flatMap((t) => Object.keys(this.dataset.tables[t.name]!.columns));
    return notAllowed(`column ${name}`, position, `Column "${name}" is not in the dataset policy of ${among.map((t) => t.name).join(', ')}.`, `Use one of: ${[...new Set(names)].join(', ')}.`);
  }

  resolveName(name: string, position: number, among: readonly TableNode[]): ColumnNode | undefined {
    const m = this.merged.get(name);
    if (m !== undefined && among.some((t) => t.index === m)) return this.column(this.tables[m]!, name, position);
    const found = among.map((t) => this.column(t, name, position)).filter((c): c is ColumnNode => c !== undefined);
    if (found.length > 1) {
      throw notAllowed(`column ${name}`, position, `Column "${name}" is ambiguous: several tables have it.`, `Qualify it: ${found.map((c) => `${visibleName(this.tables[c.table]!)}.${name}`).join(' or ')}.`);
    }
    return found[0];
  }

  resolveIn(ref: ColumnRef, among: readonly TableNode[], context: string): ColumnNode {
    const { dataset } = this;
    const parts = namesOf(ref.fields);
    const position = this.source.fromByte(ref.location);
    if (parts.includes('*')) {
      throw notAllowed('SELECT *', position, `* is not allowed (${context}): dpq releases aggregates only.`, 'Name columns inside an aggregate: SELECT COUNT(*), AVG(cost) FROM visits.');
    }
    if (parts.length === 1) {
      const c = this.resolveName(parts[0]!, position, among);
      if (c === undefined) throw this.unknownColumn(parts[0]!, position, among);
      return c;
    }
    if (parts.length > 3) throw notAllowed(`column ${parts.join('.')}`, position, `"${parts.join('.')}" has too many parts.`, 'Write column or table.column.');
    const [schema, tableName, colName] = parts.length === 3 ? parts : [undefined, parts[0]!, parts[1]!];
    if (schema !== undefined && schema !== dataset.schema) {
      throw notAllowed(`column ${parts.join('.')}`, position, `"${parts.join('.')}" is outside the dataset schema "${dataset.schema}".`, 'Write table.column.');
    }
    const t = among.find((x) => (schema === undefined ? visibleName(x) === tableName : x.alias === undefined && x.name === tableName));
    if (t === undefined) {
      throw notAllowed(`table ${tableName}`, position, `"${tableName}" is not a table (or alias) in FROM.`, `Qualify columns with ${among.map(visibleName).join(' or ')}.`);
    }
    const c = this.column(t, colName!, position);
    if (c === undefined) throw this.unknownColumn(colName!, position, [t]);
    return c;
  }

  /** The policy declares a join between these two columns. */
  declared(a: ColumnNode, b: ColumnNode): boolean {
    const ra = `${this.tables[a.table]!.name}.${a.name}`;
    const rb = `${this.tables[b.table]!.name}.${b.name}`;
    return this.dataset.joins.some(([x, y]) => (x === ra && y === rb) || (x === rb && y === ra));
  }

  joinRefused(position: number, message: string): Error {
    const declared = this.dataset.joins.map(([a, b]) => `JOIN … ON ${a} = ${b}`).join('; ') || 'this dataset declares no joins';
    return notAllowed('join', position, message, `Join only as the policy declares, on unit columns: ${declared}.`);
  }

  walk(node: Node): void {
    if ('RangeVar' in node) {
      this.addTable(node.RangeVar);
      return;
    }
    if (!('JoinExpr' in node)) this.walkOther(node);
    const j: JoinExpr = node.JoinExpr;
    const position = positionOf(this.source, j.rarg ?? node);
    if (j.jointype !== 'JOIN_INNER') throw this.joinRefused(position, `${(j.jointype ?? 'JOIN').replace('JOIN_', '')} joins are not allowed; only inner joins.`);
    if (j.isNatural === true) throw this.joinRefused(position, 'NATURAL joins are not allowed.');
    if (j.alias !== undefined || j.join_using_alias !== undefined) throw this.joinRefused(position, 'An alias on a join is not allowed.');
    if (j.larg === undefined || j.rarg === undefined) throw this.joinRefused(position, 'Incomplete join.');
    this.walk(j.larg);
    if (!('RangeVar' in j.rarg)) {
      if (kindOf(j.rarg) === 'JoinExpr') throw this.joinRefused(position, 'Parenthesised (nested) joins are not allowed.');
      this.walkOther(j.rarg);
    }
    const left = [...this.tables];
    const right = this.addTable(j.rarg.RangeVar);
    let pair: [ColumnNode, ColumnNode];
    if (j.usingClause !== undefined && j.usingClause.length > 0) pair = this.usingPair(j.usingClause, left, right, position);
    else if (j.quals !== undefined) pair = this.onPair(j.quals, left, right, position);
    else throw this.joinRefused(position, 'A join needs a condition (CROSS JOIN is not allowed).');
    this.joins.push({ kind: 'join', left: pair[0], right: pair[1] });
  }

  /** `JOIN t USING (unit)`: a declared join on the unit columns. */
  usingPair(usingClause: readonly Node[], left: readonly TableNode[], right: TableNode, position: number): [ColumnNode, ColumnNode] {
    const names = namesOf(usingClause);
    if (names.length !== 1) throw this.joinRefused(position, 'USING must name exactly one column: the unit column.');
    const name = names[0]!;
    const r = this.column(right, name, position);
    const l = left.find((t) => t.unit === name && r !== undefined && this.declared(this.column(t, name, position)!, r));
    if (r === undefined || right.unit !== name || l === undefined) throw this.joinRefused(position, `USING (${name}) is not a declared join on unit columns.`);
    if (!this.merged.has(name)) this.merged.set(name, l.index);
    return [this.column(l, name, position)!, r];
  }

  /** `JOIN t ON a.unit = t.unit`: one equality of declared unit columns, `t` on one side. */
  onPair(q: Node, left: readonly TableNode[], right: TableNode, position: number): [ColumnNode, ColumnNode] {
    const qpos = startOf(this.source, q, position);
    if (!('A_Expr' in q) || q.A_Expr.kind !== 'AEXPR_OP' || namesOf(q.A_Expr.name).join() !== '=' ||
        q.A_Expr.lexpr === undefined || q.A_Expr.rexpr === undefined || !('ColumnRef' in q.A_Expr.lexpr) || !('ColumnRef' in q.A_Expr.rexpr)) {
      throw this.joinRefused(qpos, 'A join condition must be one equality of two unit columns.');
    }
    const all = [...left, right];
    const a = this.resolveIn(q.A_Expr.lexpr.ColumnRef, all, 'in a join condition');
    const b = this.resolveIn(q.A_Expr.rexpr.ColumnRef, all, 'in a join condition');
    const [l, r] = a.table === right.index ? [b, a] : [a, b];
    if (r.table !== right.index || l.table === right.index) throw this.joinRefused(qpos, `The condition must compare ${right.name} with a table joined before it.`);
    const lt = this.tables[l.table]!;
    if (l.name !== lt.unit || r.name !== right.unit) throw this.joinRefused(qpos, 'Joins must be on the unit columns of both tables.');
    if (!this.declared(l, r)) throw this.joinRefused(qpos, `The join ${lt.name}.${l.name} = ${right.name}.${r.name} is not declared in the policy.`);
    return [l, r];
  }

  walkOther(node: Node): never {
    const position = positionOf(this.source, node);
    switch (kindOf(node)) {
      case 'RangeSubselect': {
        const open = this.source.sql.lastIndexOf('(', position);
        throw notAllowed('subquery', open < 0 ? position : open, 'Subqueries in FROM are not allowed.', 'Query a dataset table directly.');
      }
      case 'RangeFunction':
        throw notAllowed('function in FROM', position, 'Functions in FROM (generate_series, …) are not allowed.', 'Query a dataset table directly.');
      case 'RangeTableSample':
        throw notAllowed('TABLESAMPLE', position, 'TABLESAMPLE is not allowed.', 'Query the whole table: dpq bounds contributions itself.');
      default: {
        const d = describeNode(node, 'in FROM');
        throw notAllowed(d.construct, position, d.message, d.hint);
      }
    }
  }
}

export function buildScope(from: readonly Node[], dataset: Dataset, source: SourceText, options: ScopeOptions = {}): Scope {
  if (from.length === 0) {
    throw notAllowed('SELECT without FROM', 0, 'The query reads no table.', 'Name a dataset table: SELECT COUNT(*) FROM visits.');
  }
  if (from.length > 1) {
    throw notAllowed(
      'comma join',
      positionOf(source, from[1]),
      'Several tables in FROM (a cross join) are not allowed.',
      'Join declared tables explicitly: FROM visits JOIN patients ON visits.patient_id = patients.patient_id.',
    );
  }
  const b = new ScopeBuilder(dataset, source, options);
  b.walk(from[0]!);
  const { tables } = b;
  return Object.freeze({
    tables: Object.freeze(tables),
    joins: Object.freeze(b.joins),
    resolve: (ref: ColumnRef, context: string) => b.resolveIn(ref, tables, context),
    tryResolveName: (name: string, position: number) => b.resolveName(name, position, tables),
    policyOf: (c: ColumnNode) => b.policyOf(c),
    tablePolicy: (index: number) => dataset.tables[tables[index]!.name]!,
    isUnit: (c: ColumnNode) => tables[c.table]!.unit === c.name,
  });
}

export function visibleName(t: TableNode): string {
  return t.alias ?? t.name;
}
