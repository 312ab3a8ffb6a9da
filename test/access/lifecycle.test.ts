import { expect } from 'chai';
import { ManualClock } from '../../src/clock.ts';
import { startService, type TestService } from '../support/service.ts';
import {
  approve,
  auditEntries,
  call,
  createRequest,
  expectCall,
  grant,
  type Json,
  JUSTIFICATION,
  rawBody,
  rawQuery,
  STANDARD_EDITS,
  testPolicy,
} from './support.ts';

describe('JIT access: request lifecycle (pg)', function () {
  this.timeout(120_000);
  let svc: TestService;
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 9));
  before(async () => {
    svc = await startService('pg', { clock, policy: testPolicy(STANDARD_EDITS).policy });
  });
  after(async () => svc?.stop());

  it('takes a pii raw request through two distinct approvals, a raw query and a revocation, auditing each step', async () => {
    const created = await createRequest(svc, 'alice', rawBody(['patients.email', 'visits.diagnosis']));
    expect(created).to.include({ kind: 'raw', dataset: 'clinic', status: 'pending', requester: 'alice', requiredApprovals: 2, breakGlass: false, expiresAt: null, sensitivity: 'pii' });
    expect(created.id).to.match(/^ar_[A-Za-z0-9_-]{16,}$/);
    expect(created.approvals).to.deep.equal([]);
    expect(created.columns).to.deep.equal(['patients.email', 'visits.diagnosis']);
    expect(created.justification).to.equal(JUSTIFICATION);
    expect(created.durationMinutes).to.equal(60);

    // Not active before approval.
    await rawQuery(svc, 'alice', created.id, 'SELECT email FROM patients LIMIT 1', 403, 'FORBIDDEN');

    const one = await approve(svc, created.id, 'bob');
    expect(one.status).to.equal('pending');
    expect(one.approvals.map((a: { approver: string }) => a.approver)).to.deep.equal(['bob']);
    await approve(svc, created.id, 'bob', 409, 'CONFLICT');

    clock.advance(5 * 60_000);
    const two = await approve(svc, created.id, 'carol');
    expect(two.status).to.equal('approved');
    expect(two.approvedAt).to.equal(clock.now().toISOString());
    // The grant's clock starts at approval, not at creation.
    expect(two.expiresAt).to.equal(new Date(clock.now().getTime() + 60 * 60_000).toISOString());
    expect(two.decidedBy).to.equal('carol');

    const q = await rawQuery(svc, 'alice', created.id, 'SELECT patient_id, email, ssn FROM patients WHERE birth_year > 1950 LIMIT 3');
    expect(q.rowCount).to.equal(3);
    expect(q.rows[0].email).to.match(/@example\.org$/);

    // Another analyst cannot use alice's grant.
    await rawQuery(svc, 'sam', created.id, 'SELECT email FROM patients LIMIT 1', 403, 'FORBIDDEN');
    // The requester cannot revoke (it cancels); an analyst cannot either.
    await expectCall(svc, 'POST', `/v1/access-requests/${created.id}/revoke`, 'alice', { reason: 'incident closed' }, 403, 'FORBIDDEN');
    const revoked = await expectCall(svc, 'POST', `/v1/access-requests/${created.id}/revoke`, 'bob', { reason: 'incident closed' }, 200);
    expect(revoked).to.include({ status: 'revoked', decidedBy: 'bob', reason: 'incident closed' });
    await rawQuery(svc, 'alice', created.id, 'SELECT email FROM patients LIMIT 1', 403, 'FORBIDDEN');
    // Out of the state machine: 409.
    await approve(svc, created.id, 'erin', 409, 'CONFLICT');
    await expectCall(svc, 'POST', `/v1/access-requests/${created.id}/revoke`, 'bob', { reason: 'incident closed' }, 409, 'CONFLICT');
    await expectCall(svc, 'POST', `/v1/access-requests/${created.id}/cancel`, 'alice', {}, 409, 'CONFLICT');

    const mine = (await auditEntries(svc)).filter((e) => e.requestId === created.id);
    const actions = mine.map((e) => `${e.action}:${e.actor}:${e.outcome}`);
    expect(actions).to.include.members([
      'access.create:alice:ok',
      'access.approve:bob:ok',
      'access.approve:bob:refused',
      'access.approve:carol:ok',
      'access.raw_query:alice:answered',
      'access.revoke:bob:ok',
      'access.raw_query:alice:refused',
    ]);
    const createdEntry = mine.find((e) => e.action === 'access.create')!;
    expect(createdEntry.details).to.deep.include({ kind: 'raw', columns: ['patients.email', 'visits.diagnosis'], justification: JUSTIFICATION, ticket: 'INC-4411' });
    const rawEntry = mine.find((e) => e.action === 'access.raw_query' && e.outcome === 'answered')!;
    expect(rawEntry.rowCount).to.equal(3);
    expect(rawEntry.sqlRedacted).to.equal('SELECT patient_id, email, ssn FROM patients WHERE birth_year > $1 LIMIT $2');
    expect(rawEntry.details.columns).to.deep.equal(['patients.patient_id', 'patients.email', 'patients.ssn']);
    // No value of the result anywhere in the audit log.
    expect(JSON.stringify(mine)).not.to.include(q.rows[0].email);
  });

  it('adds an approved budget request to the requester\'s limit, as a ledger top-up in the same transaction', async () => {
    const created = await createRequest(svc, 'alice', { kind: 'budget', dataset: 'clinic', epsilon: 2, delta: 1e-7, justification: JUSTIFICATION });
    expect(created).to.include({ kind: 'budget', status: 'pending', requiredApprovals: 1, epsilon: 2, delta: 1e-7, expiresAt: null });
    await approve(svc, created.id, 'alice', 403, 'FORBIDDEN');
    const done = await approve(svc, created.id, 'carol');
    expect(done.status).to.equal('approved');
    const accounts = await svc.runtime.state.query<{ eps_extra_micro: bigint; delta_extra_pico: bigint }>(
      "SELECT eps_extra_micro, delta_extra_pico FROM dpq.budget_accounts WHERE principal = 'alice' AND dataset = 'clinic'",
    );
    expect(accounts.rows[0]).to.deep.equal({ eps_extra_micro: 2_000_000n, delta_extra_pico: 100_000n });
    const events = await svc.runtime.state.query<{ reference: string }>("SELECT reference FROM dpq.budget_events WHERE kind = 'topup' AND principal = 'alice'");
    expect(events.rows.map((r) => r.reference)).to.deep.equal([created.id]);
    // Final: a top-up cannot be revoked or cancelled, nor approved twice.
    await expectCall(svc, 'POST', `/v1/access-requests/${created.id}/revoke`, 'bob', { reason: 'incident closed' }, 409, 'CONFLICT');
    await expectCall(svc, 'POST', `/v1/access-requests/${created.id}/cancel`, 'alice', {}, 409, 'CONFLICT');
    await approve(svc, created.id, 'bob', 409, 'CONFLICT');
    const topup = (await auditEntries(svc)).find((e) => e.action === 'budget.topup' && e.requestId === created.id);
    // An entry's ε/δ is what it charged: the top-up's amount is a detail, not a charge.
    expect(topup).to.deep.include({ actor: 'carol', epsilon: 0, delta: 0, outcome: 'ok' });
    expect(topup!.details.topUp).to.deep.equal({ epsilon: 2, delta: 1e-7 });
  });

  it('accepts the requestAccess bodies of a BUDGET_EXHAUSTED error as they are', async () => {
    // Exactly what the queries endpoint puts in details.requestAccess.
    const budget = {
      kind: 'budget',
      dataset: 'clinic',
      epsilon: 0.5,
      delta: 0,
      justification: 'Privacy budget for dataset clinic is spent; more is needed to continue this analysis',
    };
    const raw = {
      kind: 'raw',
      dataset: 'clinic',
      columns: ['visits.region', 'visits.cost'],
      justification: 'Privacy budget for dataset clinic is spent; row-level access is needed to continue this analysis',
      durationMinutes: 60,
    };
    const b = await createRequest(svc, 'sam', budget);
    expect(b.status).to.equal('pending');
    // sam is a senior analyst: a none/quasi raw request of ≤ 1h is auto-approved.
    const r = await createRequest(svc, 'sam', raw);
    expect(r).to.include({ status: 'approved', autoApproved: true, requiredApprovals: 0 });
    await expectCall(svc, 'POST', `/v1/access-requests/${b.id}/cancel`, 'sam', {}, 200);
    await expectCall(svc, 'POST', `/v1/access-requests/${r.id}/cancel`, 'sam', {}, 200);
    // With no columns (COUNT(*) only) the raw body works too.
    const empty = await createRequest(svc, 'sam', { ...raw, columns: [] });
    await expectCall(svc, 'POST', `/v1/access-requests/${empty.id}/cancel`, 'sam', {}, 200);
  });

  it('turns a real BUDGET_EXHAUSTED refusal into working requests, and the top-up lets the query run again', async () => {
    // A different filter each time: no replay-cache hit, every query is charged.
    const sqlFor = (i: number): string => `SELECT region, COUNT(*) AS visits FROM visits WHERE cost > ${i} GROUP BY region`;
    let refusal: Json | undefined;
    let last = 0;
    for (let i = 0; i < 10 && refusal === undefined; i++) {
      last = i;
      const r = await call(svc, 'POST', '/v1/queries', 'sam', { sql: sqlFor(i), epsilon: 2, delta: 0, mechanism: 'laplace' });
      if (r.status === 403) refusal = r.body;
      else expect(r.status).to.equal(200);
    }
    expect(refusal?.error.code).to.equal('BUDGET_EXHAUSTED');
    const pointer = refusal!.error.details.requestAccess;
    const budget = await createRequest(svc, 'sam', pointer.budget);
    expect(budget).to.include({ kind: 'budget', status: 'pending' });
    const raw = await createRequest(svc, 'sam', pointer.raw);
    expect(raw.kind).to.equal('raw');
    await approve(svc, budget.id, 'bob');
    // Sized for ten more queries like the refused one (ε 2), within the rule's maxEpsilon 5.
    expect(pointer.budget.epsilon).to.equal(5);
    expect(pointer.budgetQueries).to.equal(2);
    const again = await call(svc, 'POST', '/v1/queries', 'sam', { sql: sqlFor(last), epsilon: 2, delta: 0 });
    expect(again.status).to.equal(200);
    await expectCall(svc, 'POST', `/v1/access-requests/${raw.id}/cancel`, 'sam', {}, 200);
  });

  it('refuses self-approval for an admin who is also an approver', async () => {
    const created = await createRequest(svc, 'root', rawBody(['visits.diagnosis']));
    expect(created.status).to.equal('pending');
    const refused = await approve(svc, created.id, 'root', 403, 'FORBIDDEN');
    expect(refused.error.message).to.match(/own request/);
    await expectCall(svc, 'POST', `/v1/access-requests/${created.id}/deny`, 'root', { reason: 'not needed here' }, 403, 'FORBIDDEN');
    const ok = await approve(svc, created.id, 'dave');
    expect(ok.status).to.equal('approved');
    await expectCall(svc, 'POST', `/v1/access-requests/${created.id}/cancel`, 'root', {}, 200);
  });

  it('counts N of M approvals by distinct approvers, also when they approve at the same moment', async () => {
    const created = await createRequest(svc, 'alice', rawBody(['patients.name']));
    expect(created.requiredApprovals).to.equal(2);
    const results = await Promise.all(['bob', 'carol', 'dave'].map((a) => call(svc, 'POST', `/v1/access-requests/${created.id}/approve`, a, {})));
    const statuses = results.map((r) => r.status).sort();
    // Two approvals complete it; the third arrives at an approved request: 409.
    expect(statuses).to.deep.equal([200, 200, 409]);
    const final = await expectCall(svc, 'GET', `/v1/access-requests/${created.id}`, 'alice', undefined, 200);
    expect(final.status).to.equal('approved');
    expect(final.approvals).to.have.length(2);
    expect(new Set(final.approvals.map((a: { approver: string }) => a.approver)).size).to.equal(2);
    await expectCall(svc, 'POST', `/v1/access-requests/${created.id}/cancel`, 'alice', {}, 200);
  });

  it('denies at the first denial, and lets only the requester cancel', async () => {
    const created = await createRequest(svc, 'alice', rawBody(['patients.ssn']));
    await approve(svc, created.id, 'bob');
    await expectCall(svc, 'POST', `/v1/access-requests/${created.id}/cancel`, 'bob', {}, 403, 'FORBIDDEN');
    const denied = await expectCall(svc, 'POST', `/v1/access-requests/${created.id}/deny`, 'carol', { reason: 'not needed for the incident' }, 200);
    expect(denied).to.include({ status: 'denied', decidedBy: 'carol', reason: 'not needed for the incident' });
    await approve(svc, created.id, 'dave', 409, 'CONFLICT');
    await expectCall(svc, 'POST', `/v1/access-requests/${created.id}/deny`, 'dave', { reason: 'not needed here' }, 409, 'CONFLICT');
    // A new request is possible once the last one is closed.
    const again = await createRequest(svc, 'alice', rawBody(['patients.ssn']));
    const cancelled = await expectCall(svc, 'POST', `/v1/access-requests/${again.id}/cancel`, 'alice', {}, 200);
    expect(cancelled.status).to.equal('cancelled');
  });

  it('allows one open request per requester, dataset and kind, also under concurrent creation', async () => {
    const results = await Promise.all([0, 1, 2].map(() => call(svc, 'POST', '/v1/access-requests', 'alice', rawBody(['patients.zip']))));
    expect(results.map((r) => r.status).sort()).to.deep.equal([201, 409, 409]);
    const open = results.find((r) => r.status === 201)!.body;
    const conflictBody = results.find((r) => r.status === 409)!.body;
    expect(conflictBody.error.code).to.equal('CONFLICT');
    // A budget request is another kind: allowed alongside.
    const budget = await createRequest(svc, 'alice', { kind: 'budget', dataset: 'clinic', epsilon: 1, justification: JUSTIFICATION });
    await expectCall(svc, 'POST', `/v1/access-requests/${budget.id}/cancel`, 'alice', {}, 200);
    await expectCall(svc, 'POST', `/v1/access-requests/${open.id}/cancel`, 'alice', {}, 200);
  });

  it('validates requests: justification, columns, duration, role, ticket id, ε', async () => {
    const bad = async (principal: string, body: Record<string, unknown>, status: number, code: string, field?: string): Promise<void> => {
      const r = await expectCall(svc, 'POST', '/v1/access-requests', principal, body, status, code);
      if (field !== undefined) expect(r.error.details.field).to.equal(field);
    };
    await bad('alice', rawBody(['patients.email'], { justification: 'need it' }), 400, 'INVALID_REQUEST', 'justification');
    await bad('alice', rawBody(['patients.email'], { justification: 'a'.repeat(40) }), 400, 'INVALID_REQUEST', 'justification');
    await bad('alice', rawBody(['patients.email'], { justification: 'test test test test test' }), 400, 'INVALID_REQUEST', 'justification');
    await bad('alice', rawBody(['patients.email'], { justification: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }), 400, 'INVALID_REQUEST', 'justification');
    await bad('alice', rawBody(['patients.shoe_size']), 400, 'INVALID_REQUEST', 'columns.0');
    await bad('alice', rawBody(['email']), 400, 'INVALID_REQUEST', 'columns.0');
    await bad('alice', rawBody(['patients.email'], { durationMinutes: 5 * 60 }), 400, 'INVALID_REQUEST', 'durationMinutes');
    await bad('alice', rawBody(['patients.email'], { ticket: 'no spaces allowed' }), 400, 'INVALID_REQUEST', 'ticket');
    await bad('alice', rawBody(['patients.email'], { breakGlass: true }), 403, 'FORBIDDEN');
    await bad('alice', { kind: 'budget', dataset: 'clinic', epsilon: 6, justification: JUSTIFICATION }, 400, 'INVALID_REQUEST', 'epsilon');
    await bad('alice', { kind: 'budget', dataset: 'clinic', epsilon: -1, justification: JUSTIFICATION }, 400, 'INVALID_REQUEST', 'epsilon');
    await bad('alice', { kind: 'other', dataset: 'clinic', justification: JUSTIFICATION }, 400, 'INVALID_REQUEST');
    await bad('alice', rawBody([], { dataset: 'nope' }), 404, 'NOT_FOUND');
    await bad('bob', rawBody(['patients.email']), 403, 'FORBIDDEN');
    await bad('dash', rawBody(['patients.email']), 403, 'FORBIDDEN');
  });

  it('shows a principal its own requests and those it may approve, and 404 otherwise', async () => {
    const a = await createRequest(svc, 'alice', rawBody(['patients.zip']));
    const s = await createRequest(svc, 'sam', rawBody(['patients.name']));
    await expectCall(svc, 'GET', `/v1/access-requests/${s.id}`, 'alice', undefined, 404, 'NOT_FOUND');
    await approve(svc, s.id, 'alice', 404, 'NOT_FOUND');
    await expectCall(svc, 'GET', '/v1/access-requests/ar_doesnotexist0000000', 'bob', undefined, 404, 'NOT_FOUND');

    const mine = await expectCall(svc, 'GET', '/v1/access-requests?mine=true', 'alice', undefined, 200);
    expect(mine.requests.every((r: { requester: string }) => r.requester === 'alice')).to.equal(true);
    expect(mine.requests.map((r: { id: string }) => r.id)).to.include(a.id).and.not.include(s.id);

    const queue = await expectCall(svc, 'GET', '/v1/access-requests?status=pending', 'bob', undefined, 200);
    const ids = queue.requests.map((r: { id: string }) => r.id);
    expect(ids).to.include.members([a.id, s.id]);
    expect(queue.requests.every((r: { status: string }) => r.status === 'pending')).to.equal(true);
    await expectCall(svc, 'GET', '/v1/access-requests?status=bogus', 'bob', undefined, 400, 'INVALID_REQUEST');
    // An auditor sees everything.
    const all = await expectCall(svc, 'GET', '/v1/access-requests?limit=500', 'carol', undefined, 200);
    expect(all.requests.map((r: { id: string }) => r.id)).to.include.members([a.id, s.id]);

    await expectCall(svc, 'POST', `/v1/access-requests/${a.id}/cancel`, 'alice', {}, 200);
    await expectCall(svc, 'POST', `/v1/access-requests/${s.id}/cancel`, 'sam', {}, 200);
  });

  it('grants a granted column in clear in a raw query, and nothing without a grant of the caller', async () => {
    const g = await grant(svc, 'alice', ['patients.zip']);
    const r = await rawQuery(svc, 'alice', g.id, "SELECT zip, birth_year FROM patients WHERE zip LIKE '941%' ORDER BY zip LIMIT 2");
    expect(r.columns).to.deep.equal(['zip', 'birth_year']);
    expect(r.rows[0].zip).to.match(/^941\d\d$/);
    expect(r.masked).to.deep.equal({});
    await rawQuery(svc, 'bob', g.id, 'SELECT zip FROM patients LIMIT 1', 403, 'FORBIDDEN');
    await expectCall(svc, 'POST', `/v1/access-requests/${g.id}/cancel`, 'alice', {}, 200);
    await rawQuery(svc, 'alice', g.id, 'SELECT zip FROM patients LIMIT 1', 403, 'FORBIDDEN');
  });
});
