/**
 * The replay cache serves a stored release only for the same request under the same policy: a
 * different confidence or a changed dataset policy is a new release.
 */
import { expect } from 'chai';
import { policyDir } from '../support/policy.ts';
import { startService, type TestService } from '../support/service.ts';

interface Answer {
  privacy: { cached: boolean };
  accuracy: Record<string, { confidence: number; ci: [number, number] | null }>;
  rows: Record<string, unknown>[];
}

const SQL = 'SELECT region, COUNT(*) AS n, SUM(cost) AS total FROM visits GROUP BY region';

async function ask(svc: TestService, body: Record<string, unknown>): Promise<Answer> {
  const res = await svc.request('POST', '/v1/queries', { principal: 'alice', body: { sql: SQL, epsilon: 0.2, ...body } });
  expect(res.status).to.equal(200);
  return (await res.json()) as Answer;
}

describe('the replay cache key covers what changes an answer', function () {
  this.timeout(120_000);
  const stops: TestService[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0)) await s.stop();
  });

  it('serves a request at confidence 0.99 its own intervals, not the stored 0.95 ones', async () => {
    const svc = await startService('pglite');
    stops.push(svc);
    const first = await ask(svc, { confidence: 0.95 });
    expect(first.accuracy.n!.confidence).to.equal(0.95);
    const again = await ask(svc, { confidence: 0.95 });
    expect(again.privacy.cached, 'positive control: the same request is a replay').to.equal(true);
    const other = await ask(svc, { confidence: 0.99 });
    expect(other.privacy.cached).to.equal(false);
    expect(other.accuracy.n!.confidence).to.equal(0.99);
    expect(other.accuracy.n!.ci![1]).to.be.greaterThan(first.accuracy.n!.ci![1]);
  });

  it('does not serve a release computed under other bounds after a policy change', async () => {
    const before = await startService('pg');
    stops.push(before);
    expect((await ask(before, {})).privacy.cached).to.equal(false);
    expect((await ask(before, {})).privacy.cached, 'positive control: the same request is a replay').to.equal(true);
    await before.stop();
    stops.pop();
    // The same state store, the same policy: still a replay.
    const same = await startService('pg', { env: { DATABASE_URL: before.env.DATABASE_URL! } });
    stops.push(same);
    expect((await ask(same, {})).privacy.cached, 'positive control: a restart keeps the cache').to.equal(true);
    await same.stop();
    stops.pop();
    // The same state store under narrower bounds for cost: a new release, every sum within the new bounds.
    const narrow = policyDir({ 'clinic.yaml': (t) => t.replace('bounds: [0, 5000], granularity: 0.01', 'bounds: [0, 1], granularity: 0.01') });
    const after = await startService('pg', { env: { DATABASE_URL: before.env.DATABASE_URL!, DPQ_POLICY_DIR: narrow } });
    stops.push(after);
    const changed = await ask(after, {});
    expect(changed.privacy.cached).to.equal(false);
  });
});
