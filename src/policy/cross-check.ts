/**
 * Cross-references of a merged policy that no single section can check: roles named by principals
 * and rules exist, datasets named by roles and metrics exist. Also the warnings `policy check`
 * prints (calendar budget renewal weakens the guarantee to "per period").
 */
import type { Policy } from './schema.ts';

export interface CrossProblem {
  readonly path: (string | number)[];
  readonly message: string;
}

const PERIOD = { daily: 'day', weekly: 'week', monthly: 'month' } as const;

export function crossCheck(policy: Policy): { errors: CrossProblem[]; warnings: CrossProblem[] } {
  const errors: CrossProblem[] = [];
  const warnings: CrossProblem[] = [];
  const roleExists = (r: string): boolean => Object.hasOwn(policy.roles, r);
  const datasetExists = (d: string): boolean => Object.hasOwn(policy.datasets, d);
  const needRole = (r: string, path: (string | number)[]): void => {
    if (!roleExists(r)) errors.push({ path, message: `unknown role "${r}"` });
  };

  for (const [p, principal] of Object.entries(policy.principals)) {
    principal.roles.forEach((r, i) => needRole(r, ['principals', p, 'roles', i]));
  }
  for (const [r, role] of Object.entries(policy.roles)) {
    role.datasets?.forEach((d, i) => {
      if (!datasetExists(d)) errors.push({ path: ['roles', r, 'datasets', i], message: `unknown dataset "${d}"` });
    });
  }
  policy.access.rules.forEach((rule, i) => {
    needRole(rule.approverRole, ['access', 'rules', i, 'approverRole']);
    rule.autoApprove?.roles.forEach((r, j) => needRole(r, ['access', 'rules', i, 'autoApprove', 'roles', j]));
    rule.match.datasets?.forEach((d, j) => {
      if (!datasetExists(d)) errors.push({ path: ['access', 'rules', i, 'match', 'datasets', j], message: `unknown dataset "${d}"` });
    });
  });
  policy.access.breakGlass?.roles.forEach((r, i) => needRole(r, ['access', 'breakGlass', 'roles', i]));
  for (const [m, metric] of Object.entries(policy.metrics)) {
    if (!datasetExists(metric.dataset)) {
      errors.push({ path: ['metrics', m, 'dataset'], message: `unknown dataset "${metric.dataset}"` });
    }
    metric.readers.forEach((r, i) => needRole(r, ['metrics', m, 'readers', i]));
  }
  for (const [d, dataset] of Object.entries(policy.datasets)) {
    if (dataset.budget.renew !== 'never') {
      warnings.push({
        path: ['datasets', d, 'budget', 'renew'],
        message: `renew: ${dataset.budget.renew} weakens the guarantee to ε per calendar ${PERIOD[dataset.budget.renew]}`,
      });
    }
    for (const [t, table] of Object.entries(dataset.tables)) {
      for (const [c, column] of Object.entries(table.columns)) {
        if ((column.type === 'integer' || column.type === 'numeric') && column.bounds === undefined && column.aggregate) {
          warnings.push({
            path: ['datasets', d, 'tables', t, 'columns', c],
            message: 'no bounds: this column cannot be summed, averaged or used in a quantile',
          });
        }
      }
    }
  }
  return { errors, warnings };
}
