/**
 * Cross-references of a merged policy that no single section can check: roles named by principals
 * and rules exist, datasets named by roles and metrics exist, no warehouse table belongs to two
 * datasets (their budgets would be independent, so they would not compose). Also the warnings
 * `policy check` prints (calendar budget renewal weakens the guarantee to "per period"; a dataset
 * without `budget.total` has no cap over all its principals, top-ups and metrics).
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

  const slackUsers = new Map<string, string>();
  for (const [p, principal] of Object.entries(policy.principals)) {
    principal.roles.forEach((r, i) => needRole(r, ['principals', p, 'roles', i]));
    const slack = principal.slackUserId;
    if (slack !== undefined && slackUsers.has(slack)) errors.push({ path: ['principals', p, 'slackUserId'], message: `${slack} is already the Slack user of ${slackUsers.get(slack)}` });
    else if (slack !== undefined) slackUsers.set(slack, p);
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
    } else if (policy.datasets[metric.dataset]!.budget.accounting === 'zcdp' && metric.budget.delta === 0) {
      warnings.push({ path: ['metrics', m, 'budget', 'delta'], message: 'no delta: this budget has no ρ budget and keeps basic accounting under zcdp' });
    }
    metric.readers.forEach((r, i) => needRole(r, ['metrics', m, 'readers', i]));
  }
  errors.push(...sharedTables(policy));
  const alertNames = new Map<string, number>();
  policy.alerts.forEach((a, i) => {
    if (alertNames.has(a.name)) errors.push({ path: ['alerts', i, 'name'], message: `alert "${a.name}" is already defined (alerts.${alertNames.get(a.name)})` });
    else alertNames.set(a.name, i);
  });
  for (const [d, dataset] of Object.entries(policy.datasets)) {
    if (dataset.budget.total === undefined) {
      warnings.push({
        path: ['datasets', d, 'budget', 'total'],
        message: 'no total: nothing caps what all principals, top-ups and metrics together spend on this dataset',
      });
    }
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

/** A warehouse table (schema.table) declared by two datasets: each would spend its own budget on the same people. */
function sharedTables(policy: Policy): CrossProblem[] {
  const owner = new Map<string, string>();
  const problems: CrossProblem[] = [];
  for (const [d, dataset] of Object.entries(policy.datasets)) {
    for (const t of Object.keys(dataset.tables)) {
      const key = JSON.stringify([dataset.schema, t]);
      const first = owner.get(key);
      if (first === undefined) {
        owner.set(key, d);
      } else {
        problems.push({
          path: ['datasets', d, 'tables', t],
          message: `table ${dataset.schema}.${t} is also declared by dataset "${first}": two datasets over the same table would have budgets that do not compose`,
        });
      }
    }
  }
  return problems;
}
