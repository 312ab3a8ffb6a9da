import { expect } from 'chai';
import { spawnServer, startService, type ServerProcess, type TestService } from '../support/service.ts';
import { createRequest, expectCall, rawBody, rawQuery } from './support.ts';

describe('JIT access across replicas (pg, two server processes)', function () {
  this.timeout(120_000);
  let svc: TestService;
  let second: ServerProcess;
  before(async () => {
    svc = await startService('pg');
    second = await spawnServer({ ...svc.env });
  });
  after(async () => {
    await second?.stop();
    await svc?.stop();
  });

  const onSecond = async (principal: string, route: string, body: unknown): Promise<Response> =>
    fetch(`${second.url}${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await svc.token(principal)}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('sees an approval made on one replica and a revocation on its very next request', async () => {
    const r = await createRequest(svc, 'alice', rawBody(['visits.cost']));
    // Approved on the second process…
    const approved = await onSecond('bob', `/v1/access-requests/${r.id}/approve`, {});
    expect(approved.status).to.equal(200);
    // …used on both.
    await rawQuery(svc, 'alice', r.id, 'SELECT cost FROM visits LIMIT 1');
    const before = await onSecond('alice', '/v1/raw-queries', { requestId: r.id, sql: 'SELECT cost FROM visits LIMIT 1' });
    expect(before.status).to.equal(200);
    // Revoked on the first: the second process refuses the next query.
    await expectCall(svc, 'POST', `/v1/access-requests/${r.id}/revoke`, 'carol', { reason: 'done' }, 200);
    const after = await onSecond('alice', '/v1/raw-queries', { requestId: r.id, sql: 'SELECT cost FROM visits LIMIT 1' });
    expect(after.status).to.equal(403);
    expect(((await after.json()) as { error: { code: string } }).error.code).to.equal('FORBIDDEN');
    const reveal = await onSecond('alice', '/v1/tokens/reveal', { requestId: r.id, tokens: [`tok_${'0'.repeat(32)}`] });
    expect(reveal.status).to.equal(403);
  });

  it('keeps one open request per requester across replicas', async () => {
    const results = await Promise.all([
      svc.request('POST', '/v1/access-requests', { principal: 'sam', body: rawBody(['patients.email']) }),
      onSecond('sam', '/v1/access-requests', rawBody(['patients.email'])),
      onSecond('sam', '/v1/access-requests', rawBody(['patients.email'])),
    ]);
    expect(results.map((r) => r.status).sort()).to.deep.equal([201, 409, 409]);
  });
});
