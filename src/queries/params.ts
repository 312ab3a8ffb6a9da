/**
 * A query's privacy parameters, resolved from the request and the dataset policy only (never from
 * data): which dataset, ε, δ, mechanism and confidence, each checked against the dataset's limits.
 * Out of range is 400 INVALID_REQUEST; an unknown dataset 404; a dataset the principal may not
 * query 403.
 */
import { forbidden, invalidRequest, notFound } from '../errors.ts';
import { datasetsFor, may, type Principal } from '../policy/authorize.ts';
import type { Dataset, NoiseMechanism, Policy } from '../policy/schema.ts';

export const DEFAULT_CONFIDENCE = 0.95;

export interface QueryParams {
  readonly datasetName: string;
  readonly dataset: Dataset;
  /** Undefined only in an estimate that asks for an accuracy instead. */
  readonly epsilon: number;
  readonly delta: number;
  readonly mechanism: NoiseMechanism;
  readonly confidence: number;
}

export function resolveDataset(policy: Policy, principal: Principal, requested: string | undefined): { name: string; dataset: Dataset } {
  if (requested !== undefined) {
    if (!Object.hasOwn(policy.datasets, requested)) throw notFound(`unknown dataset "${requested}"`);
    if (!may(policy, principal, 'query', requested)) throw forbidden(`this principal may not query dataset "${requested}"`);
    return { name: requested, dataset: policy.datasets[requested]! };
  }
  const allowed = datasetsFor(policy, principal, 'query');
  if (allowed.length === 0) throw forbidden('this principal may not query any dataset');
  if (allowed.length > 1) throw invalidRequest(`name the dataset: one of ${allowed.join(', ')}`, { field: 'dataset' });
  return { name: allowed[0]!, dataset: policy.datasets[allowed[0]!]! };
}

export function resolveParams(
  policy: Policy,
  principal: Principal,
  body: { dataset?: string | undefined; epsilon?: number | undefined; delta?: number | undefined; mechanism?: NoiseMechanism | undefined; confidence?: number | undefined },
): QueryParams {
  const { name, dataset } = resolveDataset(policy, principal, body.dataset);
  const epsilon = body.epsilon ?? dataset.defaults.epsilon;
  const delta = body.delta ?? dataset.defaults.delta;
  const mechanism = body.mechanism ?? dataset.defaults.mechanism;
  const { minEpsilon, maxEpsilon, maxDelta } = dataset.limits;
  if (epsilon < minEpsilon || epsilon > maxEpsilon) {
    throw invalidRequest(`epsilon must be between ${minEpsilon} and ${maxEpsilon} on dataset ${name}`, {
      field: 'epsilon',
      min: minEpsilon,
      max: maxEpsilon,
    });
  }
  if (delta > maxDelta) {
    throw invalidRequest(`delta must be at most ${maxDelta} on dataset ${name}`, { field: 'delta', max: maxDelta });
  }
  if (mechanism === 'gaussian' && delta === 0) {
    throw invalidRequest('the gaussian mechanism needs delta > 0', { field: 'delta' });
  }
  return { datasetName: name, dataset, epsilon, delta, mechanism, confidence: body.confidence ?? DEFAULT_CONFIDENCE };
}
