import { expect } from 'chai';
import { ManualClock } from '../../src/clock.ts';
import { startService, type TestService } from '../support/service.ts';
import { approve, auditEntries, createRequest, expectCall, grant, rawBody, rawQuery, STANDARD_EDITS, testPolicy } from './support.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('JIT access: time — expiry at use, pending TTL, auto-approve, break-glass (pg)', function () {
  this.timeout(120_000);
  let svc: TestService;
  const clock = new ManualClock(Date.UTC(2026, 4, 4, 8));
  before(async () => {
    svc = await startService('pg', { clock, policy: testPolicy(STANDARD_EDITS).policy });
  });
  after(async () => svc?.stop());

  it('ends a grant at expiresAt: the next raw query after it is 403, without any timer', async () => {
    const g = await grant(svc, 'alice', ['visits.cost'], { durationMinutes: 30 });
    expect(g.expiresAt).to.equal(new Date(clock.now().getTime() + 30 * MINUTE).toISOString());
    await rawQuery(svc, 'alice', g.id, 'SELECT cost FROM visits LIMIT 1');
    clock.advance(30 * MINUTE - 1);
    await rawQuery(svc, 'alice', g.id, 'SELECT cost FROM visits LIMIT 1');
    clock.advance(1);
    const r = await rawQuery(svc, 'alice', g.id, 'SELECT cost FROM visits LIMIT 1', 403, 'FORBIDDEN');
    expect(r.error.details.status).to.equal('expired');
    const now = await expectCall(svc, 'GET', `/v1/access-requests/${g.id}`, 'alice', undefined, 200);
    expect(now.status).to.equal('expired');
    expect(now.decidedAt).to.equal(g.expiresAt);
    await expectCall(svc, 'POST', `/v1/access-requests/${g.id}/revoke`, 'bob', { reason: 'incident closed' }, 409, 'CONFLICT');
    await expectCall(svc, 'POST', `/v1/access-requests/${g.id}/cancel`, 'alice', {}, 409, 'CONFLICT');
    const expired = (await auditEntries(svc)).filter((e) => e.requestId === g.id && e.action === 'access.expire');
    expect(expired).to.have.length(1);
    expect(expired[0]).to.include({ actor: 'dpq', outcome: 'ok' });
  });

  it('expires a pending request after pendingTtl; it can no longer be approved, and a new one can be filed', async () => {
    const r = await createRequest(svc, 'alice', rawBody(['patients.zip']));
    expect(r.pendingUntil).to.equal(new Date(clock.now().getTime() + 24 * HOUR).toISOString());
    clock.advance(24 * HOUR - 1000);
    expect((await expectCall(svc, 'GET', `/v1/access-requests/${r.id}`, 'bob', undefined, 200)).status).to.equal('pending');
    clock.advance(1000);
    const queue = await expectCall(svc, 'GET', '/v1/access-requests?status=pending', 'bob', undefined, 200);
    expect(queue.requests.map((x: { id: string }) => x.id)).not.to.include(r.id);
    const expired = await expectCall(svc, 'GET', '/v1/access-requests?status=expired&mine=true', 'alice', undefined, 200);
    expect(expired.requests.map((x: { id: string }) => x.id)).to.include(r.id);
    await approve(svc, r.id, 'bob', 409, 'CONFLICT');
    const again = await createRequest(svc, 'alice', rawBody(['patients.zip']));
    await expectCall(svc, 'POST', `/v1/access-requests/${again.id}/cancel`, 'alice', {}, 200);
  });

  it('auto-approves a senior analyst within autoApprove.maxDuration, and not beyond it or for pii', async () => {
    const auto = await createRequest(svc, 'sam', rawBody(['visits.diagnosis'], { durationMinutes: 60 }));
    expect(auto).to.include({ status: 'approved', autoApproved: true, requiredApprovals: 0 });
    expect(auto.expiresAt).to.equal(new Date(clock.now().getTime() + HOUR).toISOString());
    await rawQuery(svc, 'sam', auto.id, 'SELECT diagnosis FROM visits LIMIT 1');
    await expectCall(svc, 'POST', `/v1/access-requests/${auto.id}/cancel`, 'sam', {}, 200);
    const long = await createRequest(svc, 'sam', rawBody(['visits.diagnosis'], { durationMinutes: 120 }));
    expect(long).to.include({ status: 'pending', autoApproved: false, requiredApprovals: 1 });
    await expectCall(svc, 'POST', `/v1/access-requests/${long.id}/cancel`, 'sam', {}, 200);
    const pii = await createRequest(svc, 'sam', rawBody(['patients.email'], { durationMinutes: 30 }));
    expect(pii).to.include({ status: 'pending', requiredApprovals: 2 });
    await expectCall(svc, 'POST', `/v1/access-requests/${pii.id}/cancel`, 'sam', {}, 200);
    // An analyst without the senior role waits for an approver.
    const alice = await createRequest(svc, 'alice', rawBody(['visits.diagnosis'], { durationMinutes: 30 }));
    expect(alice.status).to.equal('pending');
    await expectCall(svc, 'POST', `/v1/access-requests/${alice.id}/cancel`, 'alice', {}, 200);
  });

  it('lets a break-glass role self-grant at once, flagged, reviewable by an approver, overdue when not reviewed in time', async () => {
    // Break-glass is for roles in access.breakGlass.roles only, and at most its maxDuration.
    await expectCall(svc, 'POST', '/v1/access-requests', 'alice', rawBody(['patients.ssn'], { breakGlass: true }), 403, 'FORBIDDEN');
    await expectCall(svc, 'POST', '/v1/access-requests', 'root', rawBody(['patients.ssn'], { breakGlass: true, durationMinutes: 31 }), 400, 'INVALID_REQUEST');

    const bg = await createRequest(svc, 'root', rawBody(['patients.ssn'], { breakGlass: true, durationMinutes: undefined }));
    expect(bg).to.include({ status: 'approved', breakGlass: true, requiredApprovals: 0, decidedBy: 'root', overdue: false });
    expect(bg.durationMinutes).to.equal(30);
    expect(bg.expiresAt).to.equal(new Date(clock.now().getTime() + 30 * MINUTE).toISOString());
    expect(bg.reviewDueAt).to.equal(new Date(clock.now().getTime() + 24 * HOUR).toISOString());
    const rows = await rawQuery(svc, 'root', bg.id, 'SELECT ssn FROM patients LIMIT 2');
    expect(rows.rows[0].ssn).to.match(/^\d{3}-\d{2}-\d{4}$/);

    clock.advance(24 * HOUR + 1000);
    const overdue = await expectCall(svc, 'GET', '/v1/access-requests?overdue=true', 'bob', undefined, 200);
    expect(overdue.requests.map((x: { id: string }) => x.id)).to.include(bg.id);
    expect(overdue.requests.find((x: { id: string }) => x.id === bg.id)).to.include({ overdue: true, status: 'expired' });
    // root cannot review its own emergency grant; an approver can, once.
    await approve(svc, bg.id, 'root', 403, 'FORBIDDEN');
    const reviewed = await approve(svc, bg.id, 'bob');
    expect(reviewed).to.include({ reviewedBy: 'bob', overdue: false, status: 'expired' });
    await approve(svc, bg.id, 'carol', 409, 'CONFLICT');
    const after = await expectCall(svc, 'GET', '/v1/access-requests?overdue=true', 'bob', undefined, 200);
    expect(after.requests.map((x: { id: string }) => x.id)).not.to.include(bg.id);
    const entries = (await auditEntries(svc)).filter((e) => e.requestId === bg.id).map((e) => `${e.action}:${e.actor}:${e.outcome}`);
    expect(entries).to.include.members(['access.create:root:ok', 'access.raw_query:root:answered', 'access.expire:dpq:ok', 'access.review:bob:ok']);
  });

  it('counts a revocation of a break-glass grant by an approver as its review', async () => {
    const bg = await createRequest(svc, 'root', rawBody(['patients.name'], { breakGlass: true, durationMinutes: 10 }));
    const revoked = await expectCall(svc, 'POST', `/v1/access-requests/${bg.id}/revoke`, 'carol', { reason: 'not an emergency' }, 200);
    expect(revoked).to.include({ status: 'revoked', reviewedBy: 'carol' });
    await rawQuery(svc, 'root', bg.id, 'SELECT name FROM patients LIMIT 1', 403, 'FORBIDDEN');
  });
});
