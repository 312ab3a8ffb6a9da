import { expect } from 'chai';
import { ManualClock } from '../../src/clock.ts';
import { startService, type TestService } from '../support/service.ts';
import { approve, auditEntries, createRequest, expectCall, grant, JUSTIFICATION, rawBody, rawQuery } from './support.ts';

describe('JIT access on the embedded store (pglite)', function () {
  this.timeout(120_000);
  let svc: TestService;
  const clock = new ManualClock(Date.UTC(2026, 8, 1, 10));
  before(async () => {
    svc = await startService('pglite', { clock });
  });
  after(async () => svc?.stop());

  it('runs the raw lifecycle: approvals, masked query, expiry at use', async () => {
    const created = await createRequest(svc, 'alice', rawBody(['patients.ssn']));
    await approve(svc, created.id, 'alice', 403, 'FORBIDDEN');
    await approve(svc, created.id, 'bob');
    await approve(svc, created.id, 'bob', 409, 'CONFLICT');
    const g = await approve(svc, created.id, 'carol');
    expect(g.status).to.equal('approved');
    const r = await rawQuery(svc, 'alice', g.id, "SELECT patient_id, name, email, ssn, zip FROM patients WHERE sex = 'F' LIMIT 3");
    expect(r.masked).to.deep.equal({ 'patients.patient_id': 'tokenize', 'patients.name': 'redact', 'patients.email': 'tokenize', 'patients.zip': 'generalize' });
    expect(r.rows[0].ssn).to.match(/^\d{3}-\d{2}-\d{4}$/);
    expect(r.rows[0].zip).to.match(/^\d{3}\*\*$/);
    expect(r.rows[0].name).to.equal(null);
    const emailToken = r.rows[0].email as string;
    const again = await rawQuery(svc, 'alice', g.id, "SELECT email FROM patients WHERE sex = 'F' LIMIT 3");
    expect(again.rows[0].email).to.equal(emailToken);
    const reveal = await expectCall(svc, 'POST', '/v1/tokens/reveal', 'alice', { requestId: g.id, tokens: [emailToken] }, 200);
    expect(reveal.unrevealed).to.deep.equal([emailToken]);
    clock.advance(60 * 60_000);
    await rawQuery(svc, 'alice', g.id, 'SELECT ssn FROM patients LIMIT 1', 403, 'FORBIDDEN');
    expect((await expectCall(svc, 'GET', `/v1/access-requests/${g.id}`, 'alice', undefined, 200)).status).to.equal('expired');
  });

  it('tops up the budget on approval, audited', async () => {
    const b = await createRequest(svc, 'alice', { kind: 'budget', dataset: 'clinic', epsilon: 1.5, justification: JUSTIFICATION });
    await approve(svc, b.id, 'bob');
    const rows = await svc.runtime.state.query<{ eps_extra_micro: bigint }>("SELECT eps_extra_micro FROM dpq.budget_accounts WHERE principal = 'alice'");
    expect(rows.rows.map((r) => BigInt(r.eps_extra_micro))).to.deep.equal([1_500_000n]);
    const entries = (await auditEntries(svc)).filter((e) => e.requestId === b.id).map((e) => e.action);
    expect(entries).to.deep.equal(['access.create', 'access.approve', 'budget.topup']);
  });

  it('lets a senior analyst use an auto-approved grant at once', async () => {
    const g = await grant(svc, 'sam', ['visits.diagnosis']);
    expect(g.autoApproved).to.equal(true);
    const r = await rawQuery(svc, 'sam', g.id, "SELECT diagnosis, cost FROM visits WHERE region = 'east' ORDER BY cost DESC NULLS LAST LIMIT 2");
    expect(r.rowCount).to.equal(2);
    expect(r.masked).to.deep.equal({});
  });
});
