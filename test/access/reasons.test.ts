import { expect } from 'chai';
import { startService, type TestService } from '../support/service.ts';
import { approve, createRequest, expectCall, JUSTIFICATION, rawBody, STANDARD_EDITS, testPolicy, webhookReceiver, type Receiver } from './support.ts';

describe('JIT access: deny and revoke need a reason the requester sees (pg)', function () {
  this.timeout(120_000);
  let svc: TestService;
  let receiver: Receiver;
  before(async () => {
    receiver = await webhookReceiver();
    const { policy } = testPolicy(STANDARD_EDITS, { DPQ_NOTIFY_WEBHOOK: receiver.url });
    svc = await startService('pg', { policy });
  });
  after(async () => {
    await svc?.stop();
    await receiver?.close();
  });

  it('refuses a denial without a reason, or with a blank one, and changes nothing', async () => {
    const r = await createRequest(svc, 'alice', { kind: 'budget', dataset: 'clinic', epsilon: 1, justification: JUSTIFICATION });
    const none = await expectCall(svc, 'POST', `/v1/access-requests/${r.id}/deny`, 'bob', {}, 400, 'INVALID_REQUEST');
    expect(none.error.message).to.include('reason');
    await expectCall(svc, 'POST', `/v1/access-requests/${r.id}/deny`, 'bob', { reason: '   ' }, 400, 'INVALID_REQUEST');
    const still = await expectCall(svc, 'GET', `/v1/access-requests/${r.id}`, 'alice', undefined, 200);
    expect(still).to.include({ status: 'pending', reason: null });

    await expectCall(svc, 'POST', `/v1/access-requests/${r.id}/deny`, 'bob', { reason: '  spend the rest of the budget first ' }, 200);
    const seen = await expectCall(svc, 'GET', `/v1/access-requests/${r.id}`, 'alice', undefined, 200);
    expect(seen).to.include({ status: 'denied', decidedBy: 'bob', reason: 'spend the rest of the budget first' });
    await receiver.waitFor((all) => all.some((b) => b.requestId === r.id && b.event === 'denied'));
    const denied = receiver.received.find((b) => b.requestId === r.id && b.event === 'denied')!;
    expect(denied.reason).to.equal('spend the rest of the budget first');
    expect(denied.text).to.include('reason: spend the rest of the budget first');
  });

  it('refuses a revocation without a reason and keeps the grant working; with one the requester sees it', async () => {
    const r = await createRequest(svc, 'alice', rawBody(['visits.cost']));
    await approve(svc, r.id, 'bob');
    await expectCall(svc, 'POST', `/v1/access-requests/${r.id}/revoke`, 'carol', {}, 400, 'INVALID_REQUEST');
    await expectCall(svc, 'POST', `/v1/access-requests/${r.id}/revoke`, 'carol', { reason: '' }, 400, 'INVALID_REQUEST');
    await expectCall(svc, 'POST', '/v1/raw-queries', 'alice', { requestId: r.id, sql: 'SELECT cost FROM visits LIMIT 1' }, 200);

    await expectCall(svc, 'POST', `/v1/access-requests/${r.id}/revoke`, 'carol', { reason: 'incident INC-4411 is closed' }, 200);
    const mine = await expectCall(svc, 'GET', '/v1/access-requests?mine=true', 'alice', undefined, 200);
    expect(mine.requests.find((x: { id: string }) => x.id === r.id)).to.include({ status: 'revoked', reason: 'incident INC-4411 is closed' });
    await receiver.waitFor((all) => all.some((b) => b.requestId === r.id && b.event === 'revoked'));
    expect(receiver.received.find((b) => b.requestId === r.id && b.event === 'revoked')!.reason).to.equal('incident INC-4411 is closed');
  });
});
