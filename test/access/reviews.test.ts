import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ManualClock } from '../../src/clock.ts';
import { spawnServer, startService, type ServerProcess, type TestService } from '../support/service.ts';
import { approve, createRequest, expectCall, grant, type Json, JUSTIFICATION, rawBody, rawQuery, STANDARD_EDITS, testPolicy } from './support.ts';

const run = promisify(execFile);
const HOUR = 3_600_000;

describe('access reviews (pg, two server processes)', function () {
  this.timeout(120_000);
  let svc: TestService;
  let second: ServerProcess;
  const start = Date.now();
  const clock = new ManualClock(start);
  before(async () => {
    const { dir } = testPolicy([
      ...STANDARD_EDITS,
      ['people.yaml', 'dash:', 'zed:   { roles: [contractor] }\n  dash:'],
      ['people.yaml', 'roles:\n', 'roles:\n  contractor:     { datasets: [clinic], may: [query] }\n'],
      ['access.yaml', '      maxEpsilon: 5\n', '      maxEpsilon: 5\n    - match: { kind: budget, datasets: [clinic] }\n      approvals: 2\n      approverRole: approver\n'],
    ]);
    svc = await startService('pg', { clock, env: { DPQ_POLICY_DIR: dir } });
    second = await spawnServer({ ...svc.env });
  });
  after(async () => {
    await second?.stop();
    await svc?.stop();
  });

  it('lists grants with their use, unused ones, break-glass awaiting and overdue, top-ups, unmatched rules and idle roles', async () => {
    await expectCall(svc, 'POST', '/v1/queries', 'alice', { sql: 'SELECT COUNT(*) AS n FROM visits', epsilon: 0.5 }, 200);
    const used = await grant(svc, 'alice', ['visits.cost']);
    const first = await rawQuery(svc, 'alice', used.id, 'SELECT cost FROM visits LIMIT 7');
    await rawQuery(svc, 'alice', used.id, 'SELECT cost FROM visits LIMIT 3');
    await expectCall(svc, 'POST', `/v1/access-requests/${used.id}/cancel`, 'alice', {}, 200);
    const idle = await createRequest(svc, 'sam', rawBody(['visits.diagnosis'], { durationMinutes: 30 }));
    const bg = await createRequest(svc, 'root', rawBody(['patients.ssn'], { breakGlass: true, durationMinutes: 15 }));
    const topUp = await createRequest(svc, 'alice', { kind: 'budget', dataset: 'clinic', epsilon: 1, justification: JUSTIFICATION });
    await approve(svc, topUp.id, 'bob');

    const period = `from=${new Date(start - HOUR).toISOString()}&to=${new Date(start + HOUR).toISOString()}`;
    const review = await expectCall(svc, 'GET', `/v1/access-reviews?${period}`, 'carol', undefined, 200);
    const alice = review.principals.find((p: Json) => p.principal === 'alice');
    expect(alice.grants).to.have.length(1);
    expect(alice.grants[0]).to.deep.include({ id: used.id, dataset: 'clinic', columns: ['visits.cost'], status: 'cancelled', queries: 2, rowsRead: first.rowCount + 3, reveals: 0, unused: false });
    expect(alice.topUps).to.deep.equal([{ id: topUp.id, dataset: 'clinic', epsilon: 1, delta: 0, approvedAt: clock.now().toISOString(), approvedBy: 'bob' }]);
    const sam = review.principals.find((p: Json) => p.principal === 'sam');
    expect(sam.grants[0]).to.deep.include({ id: idle.id, unused: true, queries: 0 });
    expect(review.breakGlass).to.deep.equal([
      { id: bg.id, requester: 'root', dataset: 'clinic', columns: ['patients.ssn'], createdAt: clock.now().toISOString(), reviewDueAt: bg.reviewDueAt, review: 'awaiting' },
    ]);
    expect(review.policy.rulesNeverMatched.map((r: Json) => r.index)).to.deep.equal([3]);
    expect(review.policy.rolesNeverExercised).to.deep.equal(['contractor']);
    expect(review.policy.notObservable).to.deep.equal(['auditor', 'dashboard']);
    // The same from the other replica: it is all in the state store.
    const there = await fetch(`${second.url}/v1/access-reviews?${period}`, { headers: { authorization: `Bearer ${await svc.token('root')}` } });
    expect(there.status).to.equal(200);
    const again = (await there.json()) as Json;
    expect(again.principals).to.deep.equal(review.principals);
    expect(again.policy).to.deep.equal(review.policy);

    // A day later the break-glass grant is overdue; a period before all of it holds nothing.
    clock.advance(25 * HOUR);
    const later = await expectCall(svc, 'GET', `/v1/access-reviews?${period}`, 'root', undefined, 200);
    expect(later.breakGlass[0].review).to.equal('overdue');
    const before = await expectCall(svc, 'GET', `/v1/access-reviews?from=${new Date(start - 10 * 24 * HOUR).toISOString()}&to=${new Date(start - 9 * 24 * HOUR).toISOString()}`, 'carol', undefined, 200);
    expect(before.principals).to.deep.equal([]);
    expect(before.policy.rulesNeverMatched.map((r: Json) => r.index)).to.deep.equal([0, 1, 2, 3]);
    expect(before.policy.rolesExercised).to.deep.equal([]);

    // The CLI prints the same review.
    const cli = await run(process.execPath, ['bin/dpq.js', 'access', 'review', '--from', new Date(start - HOUR).toISOString(), '--to', new Date(start + HOUR).toISOString()], {
      env: { PATH: process.env.PATH ?? '', DPQ_URL: svc.url, DPQ_TOKEN: await svc.token('carol') },
    });
    expect(cli.stdout).to.include(`grant ${idle.id} clinic [visits.diagnosis]`).and.include('UNUSED');
    expect(cli.stdout).to.include(`${bg.id} root on clinic`).and.include('OVERDUE');
    expect(cli.stdout).to.include('Roles never exercised: contractor');
    expect(cli.stdout).to.include(`top-up ${topUp.id} clinic: ε 1, δ 0, approved by bob`);
  });

  it('is for auditors and admins, over a period that makes sense', async () => {
    await expectCall(svc, 'GET', '/v1/access-reviews', 'alice', undefined, 403, 'FORBIDDEN');
    await expectCall(svc, 'GET', '/v1/access-reviews?from=2026-02-01&to=2026-01-01', 'carol', undefined, 400, 'INVALID_REQUEST');
    await expectCall(svc, 'GET', '/v1/access-reviews?from=yesterday', 'carol', undefined, 400, 'INVALID_REQUEST');
    const r = await run(process.execPath, ['bin/dpq.js', 'access', 'review'], { env: { PATH: process.env.PATH ?? '', DPQ_URL: svc.url, DPQ_TOKEN: await svc.token('alice') } }).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).to.equal(1);
    expect((r as { stderr: string }).stderr).to.include('FORBIDDEN');
  });
});
