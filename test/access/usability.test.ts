/**
 * What a refusal tells the analyst must be usable: a raw-query hint that the same grant accepts,
 * a reason for every token a reveal leaves unrevealed, a budget top-up sized for the analysis.
 */
import { expect } from 'chai';
import { topupSize } from '../../src/queries/run.ts';
import { startService, type TestService } from '../support/service.ts';
import { expectCall, grant, type Json, rawQuery, STANDARD_EDITS, testPolicy } from './support.ts';

describe('usable refusals under a grant (pg)', function () {
  this.timeout(120_000);
  let svc: TestService;
  before(async () => {
    svc = await startService('pg', { policy: testPolicy(STANDARD_EDITS).policy });
  });
  after(async () => svc?.stop());
  const cancel = (id: string): Promise<Json> => expectCall(svc, 'POST', `/v1/access-requests/${id}/cancel`, 'alice', {}, 200);

  for (const columns of [['visits.cost'], ['patients.email'], ['patients.zip', 'patients.ssn']]) {
    it(`the hint after a refused DELETE is a query the grant on ${columns.join(', ')} accepts`, async () => {
      const g = await grant(svc, 'alice', columns);
      const refused = await rawQuery(svc, 'alice', g.id, 'DELETE FROM visits', 422, 'SQL_NOT_ALLOWED');
      const hint = String(refused.error.details.hint);
      const sql = /e\.g\. (SELECT .*)$/.exec(hint)?.[1];
      expect(sql, hint).to.be.a('string');
      const ok = await rawQuery(svc, 'alice', g.id, sql!);
      expect(ok.rowCount).to.be.greaterThan(0);
      await cancel(g.id as string);
    });
  }

  it('a reveal says why each unrevealed token was not revealed', async () => {
    const g = await grant(svc, 'alice', ['visits.cost']);
    const rows = await rawQuery(svc, 'alice', g.id, 'SELECT email FROM patients WHERE birth_year BETWEEN 1950 AND 1951 LIMIT 3');
    const tokens = (rows.rows as Json[]).map((r) => r.email as string);
    const unknown = `tok_${'0'.repeat(32)}`;
    const r = await expectCall(svc, 'POST', '/v1/tokens/reveal', 'alice', { requestId: g.id, tokens: [...tokens, unknown] }, 200);
    expect(r.values).to.deep.equal({});
    expect(r.unrevealed).to.have.members([...tokens, unknown]);
    for (const t of tokens) {
      expect(r.reasons[t]).to.deep.include({ reason: 'column_not_granted', column: 'patients.email' });
      expect(r.reasons[t].message).to.contain('patients.email');
    }
    expect(r.reasons[unknown].reason).to.equal('unknown_token');
    await cancel(g.id as string);
  });
});

describe('the top-up a budget refusal proposes', () => {
  const { policy } = testPolicy([]);
  it('pays for ten more queries like the refused one, within the rule maxEpsilon', () => {
    expect(topupSize(policy, 'clinic', { epsilon: 0.1, delta: 1e-8 })).to.deep.equal({ epsilon: 1, delta: 1e-7, queries: 10 });
    // access.yaml caps a budget request at ε 5: ten queries of ε 0.5 fit exactly, of ε 2 two do.
    expect(topupSize(policy, 'clinic', { epsilon: 0.5, delta: 0 })).to.deep.equal({ epsilon: 5, delta: 0, queries: 10 });
    expect(topupSize(policy, 'clinic', { epsilon: 2, delta: 0 })).to.deep.include({ epsilon: 5, queries: 2 });
  });
});
