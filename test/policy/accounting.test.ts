import { expect } from 'chai';
import { loadPolicy, PolicyError } from '../../src/policy/load.ts';
import { policyDir } from '../support/policy.ts';

function problemsOf(dir: string): string {
  try {
    loadPolicy(dir, {});
  } catch (err: unknown) {
    if (err instanceof PolicyError) return err.message;
    throw err;
  }
  throw new Error('the policy loaded without problems');
}

const withAccounting = (value: string, more: (t: string) => string = (t) => t) =>
  policyDir({ 'clinic.yaml': (t) => more(t.replace('renew: never', `renew: never\n      accounting: ${value}`)) });

describe('policy budget.accounting', () => {
  it('defaults to basic and accepts zcdp', () => {
    expect(loadPolicy(policyDir(), {}).policy.datasets.clinic!.budget.accounting).to.equal('basic');
    expect(loadPolicy(withAccounting('zcdp'), {}).policy.datasets.clinic!.budget.accounting).to.equal('zcdp');
  });

  it('refuses an unknown accounting with file and path', () => {
    expect(problemsOf(withAccounting('renyi'))).to.match(/clinic\.yaml: datasets\.clinic\.budget\.accounting: /);
  });

  it('refuses zcdp on a limit without δ, naming file and path', () => {
    const dir = withAccounting('zcdp', (t) => t.replace('analyst: { epsilon: 10, delta: 1.0e-6 }', 'analyst: { epsilon: 10 }'));
    expect(problemsOf(dir)).to.match(/clinic\.yaml: datasets\.clinic\.budget\.analyst\.delta: accounting: zcdp needs a positive delta/);
    const total = withAccounting('zcdp', (t) => t.replace('total:   { epsilon: 200, delta: 1.0e-5 }', 'total:   { epsilon: 200 }'));
    expect(problemsOf(total)).to.match(/clinic\.yaml: datasets\.clinic\.budget\.total\.delta: accounting: zcdp needs a positive delta/);
  });

  it('warns that a metric budget without δ keeps basic accounting under zcdp', () => {
    const { warnings } = loadPolicy(withAccounting('zcdp'), {});
    expect(warnings.map((w) => `${w.path}: ${w.message}`)).to.include('metrics.visits_by_region.budget.delta: no delta: this budget has no ρ budget and keeps basic accounting under zcdp');
  });
});
