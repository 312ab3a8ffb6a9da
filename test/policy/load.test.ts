import path from 'node:path';
import { expect } from 'chai';
import { loadPolicy, PolicyError } from '../../src/policy/load.ts';
import { policyDir } from '../support/policy.ts';

const DEMO = path.resolve('policies');
const variant = policyDir;

function problemsOf(dir: string, env: Record<string, string> = {}): string {
  try {
    loadPolicy(dir, env);
  } catch (err: unknown) {
    if (err instanceof PolicyError) return err.message;
    throw err;
  }
  throw new Error('the policy loaded without problems');
}

describe('policy loading', () => {
  it('loads the demo policy of policy.md, merged from several files, deeply frozen', () => {
    const { policy, files } = loadPolicy(DEMO, {});
    expect(files).to.have.length(3);
    const visits = policy.datasets.clinic!.tables.visits!;
    expect(visits.maxGroupsPerUnit).to.equal(4);
    expect(visits.columns.cost!.granularity).to.equal(0.01);
    expect(policy.datasets.clinic!.tables.patients!.columns.birth_year!.granularity).to.equal(1);
    expect(policy.datasets.clinic!.cacheTtl).to.equal(24 * 3600_000);
    expect(policy.access.rules).to.have.length(3);
    expect(policy.access.notify?.webhook).to.equal(undefined);
    expect(policy.metrics.visits_by_region!.refresh).to.equal(3600_000);
    expect(Object.isFrozen(visits.columns.cost)).to.equal(true);
  });

  it('names the file and the path of a bound error, as policy.md shows', () => {
    const dir = variant({ 'clinic.yaml': (t) => t.replace('bounds: [0, 5000]', 'bounds: [5000, 0]') });
    expect(problemsOf(dir)).to.include(
      'clinic.yaml: datasets.clinic.tables.visits.columns.cost.bounds: lower bound above upper bound',
    );
  });

  it('refuses a typo in a field name with file and path', () => {
    const dir = variant({ 'clinic.yaml': (t) => t.replace('maxRowsPerUnit: 20', 'maxRowPerUnit: 20') });
    const message = problemsOf(dir);
    expect(message).to.match(/clinic\.yaml: datasets\.clinic\.tables\.visits: unknown field "maxRowPerUnit"/);
  });

  it('refuses the same key defined in two files', () => {
    const dir = variant({}, { 'zz-more.yaml': 'principals:\n  alice: { roles: [analyst] }\n' });
    expect(problemsOf(dir)).to.match(/zz-more\.yaml: principals\.alice: already defined in .*people\.yaml/);
  });

  it('refuses references to unknown roles and datasets', () => {
    const dir = variant({ 'people.yaml': (t) => t.replace('alice: { roles: [analyst] }', 'alice: { roles: [analysts] }') });
    expect(problemsOf(dir)).to.match(/people\.yaml: principals\.alice\.roles\.0: unknown role "analysts"/);
  });

  it('refuses a join that is not on unit columns', () => {
    const dir = variant({ 'clinic.yaml': (t) => t.replace('[visits.patient_id, patients.patient_id]', '[visits.region, patients.patient_id]') });
    expect(problemsOf(dir)).to.match(/clinic\.yaml: datasets\.clinic\.joins\.0\.0: "visits\.region" is not the unit column of visits/);
  });

  it('substitutes ${NAME} from the environment and names an unset variable', () => {
    const dir = variant({ 'access.yaml': (t) => t.replace('${DPQ_NOTIFY_WEBHOOK:-}', '${HOOK_URL}') });
    expect(problemsOf(dir)).to.match(/access\.yaml: access\.notify\.webhook: environment variable HOOK_URL is not set/);
    const { policy } = loadPolicy(dir, { HOOK_URL: 'http://127.0.0.1:9/hook' });
    expect(policy.access.notify?.webhook).to.equal('http://127.0.0.1:9/hook');
  });

  it('refuses a bad duration and a numeric column without granularity', () => {
    const dir = variant({
      'access.yaml': (t) => t.replace('pendingTtl: 24h', 'pendingTtl: 1 day'),
      'clinic.yaml': (t) => t.replace('bounds: [0, 5000], granularity: 0.01', 'bounds: [0, 5000]'),
    });
    const message = problemsOf(dir);
    expect(message).to.match(/access\.yaml: access\.pendingTtl: "1 day" is not a duration/);
    expect(message).to.match(/clinic\.yaml: datasets\.clinic\.tables\.visits\.columns\.cost\.granularity: a bounded numeric column needs a granularity/);
  });

  it('refuses invalid YAML with the file name', () => {
    const dir = variant({}, { 'broken.yaml': 'datasets: [unclosed\n' });
    expect(problemsOf(dir)).to.match(/^broken\.yaml: |\/broken\.yaml: /m);
  });

  it('warns about calendar renewal', () => {
    const dir = variant({ 'clinic.yaml': (t) => t.replace('renew: never', 'renew: monthly') });
    const { warnings } = loadPolicy(dir, {});
    expect(warnings.map((w) => `${w.path}: ${w.message}`)).to.deep.include('datasets.clinic.budget.renew: renew: monthly weakens the guarantee to ε per calendar month');
  });
});

describe('dataset-wide budget rules', () => {
  it('warns about a dataset without budget.total (control: the demo policy has one and no such warning)', () => {
    const total = (w: { path: string; message: string }): boolean => w.path === 'datasets.clinic.budget.total';
    expect(loadPolicy(DEMO, {}).warnings.filter(total)).to.deep.equal([]);
    const dir = variant({ 'clinic.yaml': (t) => t.replace(/^\s*total:.*\n/m, '') });
    const { warnings, policy } = loadPolicy(dir, {});
    expect(policy.datasets.clinic!.budget.total).to.equal(undefined);
    expect(warnings.filter(total).map((w) => w.message)).to.deep.equal([
      'no total: nothing caps what all principals, top-ups and metrics together spend on this dataset',
    ]);
  });

  it('refuses two datasets over the same warehouse table, naming both', () => {
    const second = (schema: string): string => `datasets:
  clinic2:
    schema: ${schema}
    budget:
      analyst: { epsilon: 10, delta: 1.0e-6 }
      total: { epsilon: 100, delta: 1.0e-5 }
    defaults: { epsilon: 0.5, delta: 1.0e-7 }
    tables:
      visits:
        unit: patient_id
        maxRowsPerUnit: 5
        columns:
          patient_id: { type: id }
`;
    expect(problemsOf(variant({}, { 'clinic2.yaml': second('public') }))).to.match(
      /datasets\.clinic2\.tables\.visits: table public\.visits is also declared by dataset "clinic"/,
    );
    // Control: the same table name in another schema is another table.
    expect(() => loadPolicy(variant({}, { 'clinic2.yaml': second('archive') }), {})).to.not.throw();
  });
});
