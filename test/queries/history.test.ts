/** Query history (api.md): the caller's own answered queries, newest first; re-reading is free. */
import { expect } from 'chai';
import { BACKENDS, startService, type TestService } from '../support/service.ts';

for (const backend of BACKENDS) {
  describe(`query history (${backend})`, function () {
    this.timeout(120_000);
    let svc: TestService;
    const call = async (method: string, route: string, principal: string, body?: unknown): Promise<{ status: number; body: any }> => {
      const res = await svc.request(method, route, { principal, ...(body === undefined ? {} : { body }) });
      return { status: res.status, body: await res.json() };
    };
    const answers: any[] = [];
    before(async () => {
      svc = await startService(backend);
      for (const sql of ["SELECT region, COUNT(*) AS n FROM visits WHERE cost > 10 GROUP BY region", 'SELECT COUNT(*) AS n FROM patients', 'SELECT AVG(cost) FROM visits']) {
        const r = await call('POST', '/v1/queries', 'alice', { sql, epsilon: 0.2 });
        expect(r.status).to.equal(200);
        answers.push(r.body);
      }
    });
    after(async () => svc?.stop());

    it('lists the caller\'s answered queries newest first, with cost and row count', async () => {
      const r = await call('GET', '/v1/queries', 'alice');
      expect(r.status).to.equal(200);
      expect(r.body.queries.map((q: any) => q.id)).to.deep.equal(answers.map((a) => a.id).reverse());
      const first = r.body.queries.at(-1);
      expect(first).to.deep.include({ dataset: 'clinic', sql: "SELECT region, COUNT(*) AS n FROM visits WHERE cost > 10 GROUP BY region", cached: false, rowCount: 4 });
      expect(first.privacy).to.deep.include({ epsilon: 0.2, mechanism: 'laplace', cached: false });
      expect(r.body.next).to.equal(null);
      expect((await call('GET', '/v1/queries', 'sam')).body.queries).to.deep.equal([]);
    });

    it('pages with before and limit', async () => {
      const one = await call('GET', '/v1/queries?limit=2', 'alice');
      expect(one.body.queries.length).to.equal(2);
      expect(one.body.next).to.equal(answers[1].id);
      const two = await call('GET', `/v1/queries?limit=2&before=${one.body.next}`, 'alice');
      expect(two.body.queries.map((q: any) => q.id)).to.deep.equal([answers[0].id]);
      expect(two.body.next).to.equal(null);
    });

    it('re-opens a past answer byte-identical in rows, without charging anything', async () => {
      const budget = (await call('GET', '/v1/budget', 'alice')).body;
      const r = await call('GET', `/v1/queries/${answers[0].id}`, 'alice');
      expect(r.status).to.equal(200);
      expect(r.body.rows).to.deep.equal(answers[0].rows);
      expect(r.body.columns).to.deep.equal(answers[0].columns);
      expect(r.body.accuracy).to.deep.equal(answers[0].accuracy);
      expect((await call('GET', '/v1/budget', 'alice')).body).to.deep.equal(budget);
    });

    it("answers 404 for another principal's query id; auditors read it with actor=, SQL redacted", async () => {
      expect((await call('GET', `/v1/queries/${answers[0].id}`, 'sam')).status).to.equal(404);
      expect((await call('GET', `/v1/queries?actor=alice`, 'sam')).status).to.equal(403);
      const audited = await call('GET', `/v1/queries/${answers[0].id}?actor=alice`, 'carol');
      expect(audited.status).to.equal(200);
      expect(audited.body.sql).to.not.contain('10');
      expect(audited.body.sql).to.match(/cost > \$1/);
      const list = await call('GET', '/v1/queries?actor=alice', 'carol');
      expect(list.body.queries.length).to.equal(3);
      expect((await call('GET', '/v1/queries/nonsense', 'alice')).status).to.equal(400);
    });

    it('lists a replay of another principal\'s release as cached, free, once however often it is replayed', async () => {
      const sql = 'SELECT COUNT(*) AS n FROM patients';
      for (let i = 0; i < 2; i++) expect((await call('POST', '/v1/queries', 'sam', { sql, epsilon: 0.2 })).body.privacy.cached).to.equal(true);
      const r = await call('GET', '/v1/queries', 'sam');
      expect(r.body.queries.length).to.equal(1);
      expect(r.body.queries[0]).to.deep.include({ id: answers[1].id, cached: true, replays: 1 });
      expect(r.body.queries[0].privacy.epsilon).to.equal(0);
    });
  });
}
