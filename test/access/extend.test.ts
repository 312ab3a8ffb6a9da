import { expect } from 'chai';
import { ManualClock } from '../../src/clock.ts';
import { startService, type TestService } from '../support/service.ts';
import { approve, auditEntries, createRequest, expectCall, grant, rawBody, rawQuery, STANDARD_EDITS, testPolicy } from './support.ts';

const MIN = 60_000;

describe('JIT access: extending a grant (pg)', function () {
  this.timeout(120_000);
  let svc: TestService;
  const clock = new ManualClock(Date.UTC(2026, 2, 2, 9, 0));
  before(async () => {
    const { policy } = testPolicy(STANDARD_EDITS);
    svc = await startService('pg', { clock, policy });
  });
  after(async () => svc?.stop());

  it('shows approvers only the difference, routes by the whole scope, and runs the grant on without a gap', async () => {
    const g = await grant(svc, 'alice', ['visits.cost'], { durationMinutes: 60 });
    expect(g.requiredApprovals).to.equal(1); // quasi/none rule
    clock.advance(50 * MIN);
    const ext = await createRequest(svc, 'alice', rawBody(['visits.cost', 'patients.email'], { extends: g.id, durationMinutes: 120 }));
    expect(ext).to.include({ status: 'pending', extends: g.id, requiredApprovals: 2, sensitivity: 'pii' }); // the pii rule
    expect(ext.columns).to.deep.equal(['patients.email']); // only what it adds
    const queue = await expectCall(svc, 'GET', '/v1/access-requests?status=pending', 'bob', undefined, 200);
    expect(queue.requests.map((r: { id: string }) => r.id)).to.include(ext.id);

    // Meanwhile the grant works as it was: email masked.
    const before = await rawQuery(svc, 'alice', g.id, 'SELECT email, cost FROM patients JOIN visits ON visits.patient_id = patients.patient_id LIMIT 1');
    expect(before.masked).to.have.property('patients.email');
    await approve(svc, ext.id, 'bob');
    expect((await expectCall(svc, 'GET', `/v1/access-requests/${g.id}`, 'alice', undefined, 200)).columns).to.deep.equal(['visits.cost']);
    const done = await approve(svc, ext.id, 'carol');
    expect(done.status).to.equal('approved');
    expect(done.expiresAt).to.equal(null); // the grant carries the end; the extension is no grant

    const extended = await expectCall(svc, 'GET', `/v1/access-requests/${g.id}`, 'alice', undefined, 200);
    expect(extended.columns).to.deep.equal(['visits.cost', 'patients.email']);
    expect(extended.status).to.equal('approved');
    expect(Date.parse(extended.expiresAt)).to.equal(clock.now().getTime() + 120 * MIN);
    expect(extended.requiredApprovals).to.equal(1); // the original decision stays what it was
    expect(extended.approverRole).to.equal('approver');
    // Past the original end: the same grant, email now in clear, usage carried on.
    clock.advance(30 * MIN);
    const after = await rawQuery(svc, 'alice', g.id, 'SELECT email, cost FROM patients JOIN visits ON visits.patient_id = patients.patient_id LIMIT 1');
    expect(after.masked).not.to.have.property('patients.email');
    expect(after.usage.queries).to.equal(2);
    // The extension's id is not a grant.
    await rawQuery(svc, 'alice', ext.id, 'SELECT cost FROM visits LIMIT 1', 403, 'FORBIDDEN');
    // Revoking the grant ends it (the extension is not a grant of its own).
    await expectCall(svc, 'POST', `/v1/access-requests/${ext.id}/revoke`, 'bob', { reason: 'revoke the grant instead' }, 409, 'CONFLICT');
    const entries = await auditEntries(svc);
    const extend = entries.find((e) => e.action === 'access.extend' && e.requestId === g.id)!;
    expect(extend.details).to.include({ extension: ext.id });
    expect(extend.details.addedColumns).to.deep.equal(['patients.email']);
    await expectCall(svc, 'POST', `/v1/access-requests/${g.id}/revoke`, 'bob', { reason: 'incident closed' }, 200);
  });

  it("refuses someone else's grant (403), an ended one (409), a shorter end (400), and a second pending extension (409)", async () => {
    const g = await grant(svc, 'alice', ['visits.cost'], { durationMinutes: 60 });
    await expectCall(svc, 'POST', '/v1/access-requests', 'sam', rawBody([], { extends: g.id, durationMinutes: 90 }), 403, 'FORBIDDEN');
    clock.advance(10 * MIN);
    // 45 minutes from now ends before the 50 minutes left
    await expectCall(svc, 'POST', '/v1/access-requests', 'alice', rawBody([], { extends: g.id, durationMinutes: 45 }), 400, 'INVALID_REQUEST');
    const first = await createRequest(svc, 'alice', rawBody(['visits.diagnosis'], { extends: g.id, durationMinutes: 90 }));
    expect(first.columns).to.deep.equal(['visits.diagnosis']);
    await expectCall(svc, 'POST', '/v1/access-requests', 'alice', rawBody([], { extends: g.id, durationMinutes: 120 }), 409, 'CONFLICT');
    // The grant ends before the extension is approved: it cannot be extended any more.
    clock.advance(51 * MIN);
    await approve(svc, first.id, 'bob', 409, 'CONFLICT');
    await expectCall(svc, 'POST', '/v1/access-requests', 'alice', rawBody([], { extends: g.id, durationMinutes: 60 }), 409, 'CONFLICT');
    const grantNow = await expectCall(svc, 'GET', `/v1/access-requests/${g.id}`, 'alice', undefined, 200);
    expect(grantNow.status).to.equal('expired');
    expect(grantNow.columns).to.deep.equal(['visits.cost']);
  });

  it('auto-approves an extension the whole scope allows, at once', async () => {
    const g = await createRequest(svc, 'sam', rawBody(['visits.cost'], { durationMinutes: 30 }));
    expect(g.status).to.equal('approved');
    const ext = await createRequest(svc, 'sam', rawBody(['visits.diagnosis'], { extends: g.id, durationMinutes: 60 }));
    expect(ext).to.include({ status: 'approved', autoApproved: true });
    const after = await expectCall(svc, 'GET', `/v1/access-requests/${g.id}`, 'sam', undefined, 200);
    expect(after.columns).to.deep.equal(['visits.cost', 'visits.diagnosis']);
    expect(Date.parse(after.expiresAt)).to.equal(clock.now().getTime() + 60 * MIN);
    // A pii column takes the extension out of auto-approval: the whole scope decides.
    const pii = await createRequest(svc, 'sam', rawBody(['patients.email'], { extends: g.id, durationMinutes: 90 }));
    expect(pii).to.include({ status: 'pending', requiredApprovals: 2 });
  });
});
