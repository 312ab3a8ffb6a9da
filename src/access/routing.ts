/**
 * Who decides a request: the scope's sensitivity, the first `access.rules` entry that fits, and
 * who may approve, see and revoke it (policy.md, `access` and principals/roles).
 */
import { invalidRequest } from '../errors.ts';
import { may, type Principal } from '../policy/authorize.ts';
import type { AccessRule, Column, Dataset, Policy, ColumnSensitivity } from '../policy/schema.ts';
import type { AccessRequest, Kind } from './model.ts';

export interface ScopeColumn {
  /** `table.column` */
  readonly ref: string;
  readonly table: string;
  readonly column: string;
  readonly policy: Column;
}

const RANK: Readonly<Record<ColumnSensitivity, number>> = { none: 0, quasi: 1, pii: 2 };

/** Resolve `table.column` references against the dataset; unknown ones are 400 INVALID_REQUEST. */
export function resolveColumns(dataset: Dataset, refs: readonly string[]): ScopeColumn[] {
  const seen = new Set<string>();
  const out: ScopeColumn[] = [];
  for (const [i, ref] of refs.entries()) {
    const [table, column, extra] = ref.split('.');
    const t = table !== undefined && Object.hasOwn(dataset.tables, table) ? dataset.tables[table] : undefined;
    const c = t !== undefined && column !== undefined && Object.hasOwn(t.columns, column) ? t.columns[column] : undefined;
    if (extra !== undefined || c === undefined) {
      const known = Object.entries(dataset.tables).flatMap(([tn, tt]) => Object.keys(tt.columns).map((cn) => `${tn}.${cn}`));
      throw invalidRequest(`body.columns.${i}: "${ref}" is not a column of the dataset (write table.column)`, { field: `columns.${i}`, known });
    }
    if (seen.has(ref)) continue;
    seen.add(ref);
    out.push({ ref, table: table!, column: column!, policy: c });
  }
  return out;
}

/**
 * The sensitivity of one column for routing. An `id` column (the unit) identifies a person and is
 * tokenized in raw results unless granted, so it counts as at least `quasi`.
 */
export function columnSensitivity(c: Column): ColumnSensitivity {
  return c.type === 'id' && c.sensitivity === 'none' ? 'quasi' : c.sensitivity;
}

/** The highest sensitivity in a scope: one pii column makes the request pii. */
export function scopeSensitivity(columns: readonly ScopeColumn[]): ColumnSensitivity {
  let s: ColumnSensitivity = 'none';
  for (const c of columns) {
    const cs = columnSensitivity(c.policy);
    if (RANK[cs] > RANK[s]) s = cs;
  }
  return s;
}

export interface RoutedRule {
  readonly index: number;
  readonly rule: AccessRule;
}

/**
 * The first rule whose `match` fits. Every criterion given must fit: `kind`, `datasets`, and
 * `sensitivity` — which only raw requests have (a budget request has no columns), so a rule that
 * matches on sensitivity never routes a budget request.
 */
export function routeRequest(policy: Policy, kind: Kind, dataset: string, sensitivity: ColumnSensitivity): RoutedRule | undefined {
  const index = policy.access.rules.findIndex(({ match }) => {
    if (match.kind !== undefined && match.kind !== kind) return false;
    if (match.datasets !== undefined && !match.datasets.includes(dataset)) return false;
    if (match.sensitivity !== undefined && (kind !== 'raw' || !match.sensitivity.includes(sensitivity))) return false;
    return true;
  });
  return index < 0 ? undefined : { index, rule: policy.access.rules[index]! };
}

/** The principal holds `role`, and that role may `approve` on `dataset`. */
export function holdsApproverRole(policy: Policy, principal: Principal, role: string, dataset: string): boolean {
  if (!principal.roles.includes(role)) return false;
  return may(policy, { name: principal.name, roles: [role] }, 'approve', dataset);
}

/** May approve (or deny, or review) this request: the rule's approver role on its dataset, never the requester. */
export function mayApprove(policy: Policy, principal: Principal, r: AccessRequest): boolean {
  return principal.name !== r.requester && holdsApproverRole(policy, principal, r.approverRole, r.dataset);
}

/** May revoke an active grant: whoever could approve it, or an admin; never through this path the requester (who cancels). */
export function mayRevoke(policy: Policy, principal: Principal, r: AccessRequest): boolean {
  if (principal.name === r.requester) return false;
  return holdsApproverRole(policy, principal, r.approverRole, r.dataset) || may(policy, principal, 'admin', r.dataset);
}

/** Sees the request: its requester, whoever may approve it, admins and auditors. */
export function mayView(policy: Policy, principal: Principal, r: AccessRequest): boolean {
  return (
    principal.name === r.requester ||
    holdsApproverRole(policy, principal, r.approverRole, r.dataset) ||
    may(policy, principal, 'admin', r.dataset) ||
    may(policy, principal, 'audit')
  );
}

/** The principal holds a `breakGlass` role that covers the dataset. */
export function mayBreakGlass(policy: Policy, principal: Principal, dataset: string): boolean {
  const bg = policy.access.breakGlass;
  if (bg === undefined) return false;
  return principal.roles.some((r) => {
    if (!bg.roles.includes(r)) return false;
    const role = policy.roles[r];
    return role !== undefined && (role.datasets === undefined || role.datasets.includes(dataset));
  });
}

/** The (role, dataset) pairs on which a principal may approve, as `role|dataset` (`*` for all datasets). */
export function approverScopes(policy: Policy, principal: Principal): string[] {
  return principal.roles.flatMap((r) => {
    const role = policy.roles[r];
    if (role === undefined || !role.may.includes('approve')) return [];
    return role.datasets === undefined ? [`${r}|*`] : role.datasets.map((d) => `${r}|${d}`);
  });
}
