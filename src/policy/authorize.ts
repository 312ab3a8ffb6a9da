/**
 * Authorization from the policy only: a principal may do an action on a dataset when one of its
 * roles lists the action and (when the role names datasets) the dataset.
 */
import type { Action, Policy } from './schema.ts';

export interface Principal {
  readonly name: string;
  readonly roles: readonly string[];
}

export function principalByName(policy: Policy, name: string): Principal | undefined {
  if (!Object.hasOwn(policy.principals, name)) return undefined;
  return Object.freeze({ name, roles: policy.principals[name]!.roles });
}

/** True when `principal` may do `action` (on `dataset`, when given). */
export function may(policy: Policy, principal: Principal, action: Action, dataset?: string): boolean {
  return principal.roles.some((r) => {
    const role = policy.roles[r];
    if (role === undefined || !role.may.includes(action)) return false;
    return dataset === undefined || role.datasets === undefined || role.datasets.includes(dataset);
  });
}

/** The datasets on which `principal` may do `action`. */
export function datasetsFor(policy: Policy, principal: Principal, action: Action): string[] {
  return Object.keys(policy.datasets).filter((d) => may(policy, principal, action, d));
}
