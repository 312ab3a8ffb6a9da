import { expect } from 'chai';
import { accessContext } from '../../src/access/context.ts';
import { ManualClock } from '../../src/clock.ts';
import { startService, type TestService } from '../support/service.ts';
import { approve, closedPort, createRequest, expectCall, type Json, JUSTIFICATION, rawBody, rawQuery, type Receiver, STANDARD_EDITS, testPolicy, webhookReceiver } from './support.ts';

describe('JIT access: webhook notifications (pg)', function () {
  this.timeout(120_000);
  let svc: TestService;
  let receiver: Receiver;
  const clock = new ManualClock(Date.UTC(2026, 6, 1, 12));
  before(async () => {
    receiver = await webhookReceiver();
    const { policy } = testPolicy(STANDARD_EDITS, { DPQ_NOTIFY_WEBHOOK: receiver.url });
    svc = await startService('pg', { clock, policy });
  });
  after(async () => {
    await svc?.stop();
    await receiver?.close();
  });

  const eventsOf = (id: string): string[] => receiver.received.filter((b) => b.requestId === id).map((b) => b.event as string);

  it('announces created, approved, denied, revoked, cancelled, expired and break-glass events, without data values', async () => {
    const a = await createRequest(svc, 'alice', rawBody(['patients.email']));
    await approve(svc, a.id, 'bob');
    await approve(svc, a.id, 'carol');
    const rows = await rawQuery(svc, 'alice', a.id, 'SELECT email FROM patients LIMIT 3');
    await expectCall(svc, 'POST', `/v1/access-requests/${a.id}/revoke`, 'bob', { reason: 'done' }, 200);

    const d = await createRequest(svc, 'alice', { kind: 'budget', dataset: 'clinic', epsilon: 1, justification: JUSTIFICATION });
    await expectCall(svc, 'POST', `/v1/access-requests/${d.id}/deny`, 'carol', { reason: 'spend less' }, 200);

    const auto = await createRequest(svc, 'sam', rawBody(['visits.cost']));
    await expectCall(svc, 'POST', `/v1/access-requests/${auto.id}/cancel`, 'sam', {}, 200);

    const bg = await createRequest(svc, 'root', rawBody(['patients.ssn'], { breakGlass: true, durationMinutes: 15 }));
    const pending = await createRequest(svc, 'sam', rawBody(['patients.name']));
    clock.advance(25 * 60 * 60_000);
    await expectCall(svc, 'GET', '/v1/access-requests', 'bob', undefined, 200); // the expiries are noticed here

    await receiver.waitFor(() =>
      eventsOf(a.id).length >= 3 && eventsOf(d.id).length >= 2 && eventsOf(auto.id).length >= 3 && eventsOf(bg.id).length >= 2 && eventsOf(pending.id).length >= 2,
    );
    expect(eventsOf(a.id)).to.deep.equal(['created', 'approved', 'revoked']);
    expect(eventsOf(d.id)).to.deep.equal(['created', 'denied']);
    expect(eventsOf(auto.id)).to.deep.equal(['created', 'approved', 'cancelled']);
    expect(eventsOf(bg.id)).to.deep.equal(['break-glass', 'expired']);
    expect(eventsOf(pending.id)).to.deep.equal(['created', 'expired']);

    const first = receiver.received.find((b) => b.requestId === a.id)!;
    expect(first._contentType).to.match(/^application\/json/);
    expect(first.text).to.be.a('string').and.include(a.id).and.include('alice');
    expect(first).to.deep.include({ kind: 'raw', dataset: 'clinic', requester: 'alice', columns: ['patients.email'], ticket: 'INC-4411' });
    const everything = JSON.stringify(receiver.received);
    expect(everything).not.to.include(JUSTIFICATION);
    for (const row of rows.rows as Json[]) expect(everything).not.to.include(row.email as string);
    const metrics = await (await svc.request('GET', '/metrics')).text();
    expect(metrics).to.match(/dpq_access_notifications_total\{outcome="sent"\} \d+/);
    expect(metrics).to.match(/dpq_access_request_events_total\{event="break-glass"\} 1/);
  });
});

describe('JIT access: a dead webhook changes nothing (pg)', function () {
  this.timeout(120_000);
  let svc: TestService;
  before(async () => {
    const port = await closedPort();
    const { policy } = testPolicy(STANDARD_EDITS, { DPQ_NOTIFY_WEBHOOK: `http://127.0.0.1:${port}/hook` });
    svc = await startService('pg', { policy });
  });
  after(async () => svc?.stop());

  it('answers every step at once and the same way, whatever the receiver does', async () => {
    const start = Date.now();
    const r = await createRequest(svc, 'alice', rawBody(['patients.email']));
    await approve(svc, r.id, 'bob');
    const done = await approve(svc, r.id, 'carol');
    expect(done.status).to.equal('approved');
    await rawQuery(svc, 'alice', r.id, 'SELECT email FROM patients LIMIT 1');
    await expectCall(svc, 'POST', `/v1/access-requests/${r.id}/revoke`, 'bob', { reason: 'incident closed' }, 200);
    // Retries with back-off run in the background: the requests above did not wait for them.
    expect(Date.now() - start).to.be.below(3_000);
    // Then each notification is given up after its retries, and nothing else happens.
    await accessContext(svc.runtime).notifier.idle();
    const metrics = await (await svc.request('GET', '/metrics')).text();
    expect(metrics).to.match(/dpq_access_notifications_total\{outcome="failed"\} 3/); // created, approved, revoked
    expect(metrics).not.to.match(/dpq_access_notifications_total\{outcome="sent"\}/);
    const after = await expectCall(svc, 'GET', `/v1/access-requests/${r.id}`, 'alice', undefined, 200);
    expect(after.status).to.equal('revoked');
  });
});
