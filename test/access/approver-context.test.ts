import { expect } from 'chai';
import { startService, type TestService } from '../support/service.ts';
import { approve, createRequest, expectCall, grant, JUSTIFICATION, rawBody, rawQuery, STANDARD_EDITS, testPolicy } from './support.ts';

describe('JIT access: approvers see the requester’s budget and raw-access history (pg)', function () {
  this.timeout(120_000);
  let svc: TestService;
  before(async () => {
    const { policy } = testPolicy(STANDARD_EDITS);
    svc = await startService('pg', { policy });
  });
  after(async () => svc?.stop());

  it('shows counts, never data, to those who may decide, and nothing to the requester', async () => {
    await expectCall(svc, 'POST', '/v1/queries', 'alice', { sql: 'SELECT COUNT(*) AS n FROM visits', epsilon: 0.5 }, 200);
    const g = await grant(svc, 'alice', ['visits.cost']);
    const rows = await rawQuery(svc, 'alice', g.id, 'SELECT patient_id, cost FROM visits LIMIT 3');
    const tokens = [...new Set(rows.rows.map((r: { patient_id: string }) => r.patient_id))] as string[];
    const ext = await createRequest(svc, 'alice', rawBody(['patients.patient_id'], { extends: g.id, durationMinutes: 90 }));
    await approve(svc, ext.id, 'bob');
    const revealed = await expectCall(svc, 'POST', '/v1/tokens/reveal', 'alice', { requestId: g.id, tokens }, 200);
    expect(Object.keys(revealed.values)).to.have.length(tokens.length);
    await expectCall(svc, 'POST', `/v1/access-requests/${g.id}/cancel`, 'alice', {}, 200);
    const denied = await createRequest(svc, 'alice', rawBody(['patients.name']));
    await expectCall(svc, 'POST', `/v1/access-requests/${denied.id}/deny`, 'bob', { reason: 'name is not needed for invoices' }, 200);

    const pending = await createRequest(svc, 'alice', rawBody(['patients.email']));
    expect(pending).not.to.have.property('requesterContext'); // the requester's own view
    const seen = await expectCall(svc, 'GET', `/v1/access-requests/${pending.id}`, 'bob', undefined, 200);
    expect(seen.requesterContext.budget.epsilon).to.deep.include({ limit: 10, spent: 0.5, remaining: 9.5 });
    expect(seen.requesterContext.rawAccess).to.deep.include({ grants: 1, queries: 1, rows: rows.rowCount, reveals: tokens.length, denied: 1, breakGlass: 0 });
    const queue = await expectCall(svc, 'GET', '/v1/access-requests?status=pending', 'carol', undefined, 200);
    expect(queue.requests.find((r: { id: string }) => r.id === pending.id).requesterContext.rawAccess.rows).to.equal(rows.rowCount);
    const own = await expectCall(svc, 'GET', `/v1/access-requests/${pending.id}`, 'alice', undefined, 200);
    expect(own).not.to.have.property('requesterContext');
    // Nothing but numbers and a time in it.
    const flat = JSON.stringify(seen.requesterContext);
    for (const t of tokens) expect(flat).not.to.include(t);
    expect(flat).not.to.include(JUSTIFICATION);
  });
});
