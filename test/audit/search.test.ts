/** `GET /v1/audit` filters and cursor (api.md, Audit): every page matches, paging loses nothing. */
import { expect } from 'chai';
import { BACKENDS, startService, type TestService } from '../support/service.ts';

type Entry = { seq: number; at: string; actor: string; action: string; dataset: string | null; outcome: string };

for (const backend of BACKENDS) {
  describe(`audit search (${backend})`, function () {
    this.timeout(120_000);
    let svc: TestService;
    let all: Entry[];
    const get = async (query: string, principal = 'carol'): Promise<{ status: number; body: any }> => {
      const res = await svc.request('GET', `/v1/audit${query}`, { principal });
      return { status: res.status, body: await res.json() };
    };

    before(async () => {
      svc = await startService(backend);
      for (const [who, sql] of [
        ['alice', 'SELECT COUNT(*) FROM visits'],
        ['sam', 'SELECT region, COUNT(*) FROM visits GROUP BY region'],
        ['alice', 'SELECT region, COUNT(*) FROM visits GROUP BY region'],
        ['alice', 'SELECT * FROM visits'],
        ['sam', 'SELECT COUNT(*) FROM patients'],
      ] as const) {
        await svc.request('POST', '/v1/queries', { principal: who, body: { sql, epsilon: 0.1 } });
      }
      all = (await get('?limit=1000')).body.entries as Entry[];
      expect(all.length, JSON.stringify(all.map((e) => [e.actor, e.action, e.outcome]))).to.be.at.least(8);
    });
    after(async () => svc?.stop());

    it('filters by actor, action, dataset and outcome, combined with AND', async () => {
      const r = await get('?actor=alice&action=query');
      expect(r.status).to.equal(200);
      expect(r.body.entries.map((e: Entry) => e.seq)).to.deep.equal(all.filter((e) => e.actor === 'alice' && e.action === 'query').map((e) => e.seq));
      const refused = await get('?actor=alice&outcome=refused');
      expect(refused.body.entries.length).to.equal(1);
      expect(refused.body.entries[0]).to.include({ actor: 'alice', outcome: 'refused' });
      const clinic = await get('?dataset=clinic&outcome=ok');
      expect(clinic.body.entries.map((e: Entry) => e.seq)).to.deep.equal(all.filter((e) => e.dataset === 'clinic' && e.outcome === 'ok').map((e) => e.seq));
      expect(clinic.body.entries.length).to.be.at.least(3);
      const lists = await get('?actor=alice,sam&outcome=answered');
      expect(lists.body.entries.map((e: Entry) => e.seq)).to.deep.equal(all.filter((e) => ['alice', 'sam'].includes(e.actor) && e.outcome === 'answered').map((e) => e.seq));
      expect((await get('?actor=nobody')).body).to.deep.equal({ entries: [], next: null });
    });

    it('pages with the cursor, oldest first, losing and repeating nothing', async () => {
      const seen: number[] = [];
      let after = 0;
      for (let i = 0; i < 50; i++) {
        const page = await get(`?action=query&limit=2&after=${after}`);
        seen.push(...page.body.entries.map((e: Entry) => e.seq));
        if (page.body.next === null) break;
        expect(page.body.entries.length).to.equal(2);
        after = page.body.next;
      }
      expect(seen).to.deep.equal(all.filter((e) => e.action === 'query').map((e) => e.seq));
    });

    it('pages newest first with order=desc and before', async () => {
      const seen: number[] = [];
      let cursor = '';
      for (let i = 0; i < 50; i++) {
        const page = await get(`?order=desc&actor=sam&limit=3${cursor}`);
        seen.push(...page.body.entries.map((e: Entry) => e.seq));
        if (page.body.next === null) break;
        cursor = `&before=${page.body.next}`;
      }
      expect(seen).to.deep.equal(all.filter((e) => e.actor === 'sam').map((e) => e.seq).reverse());
    });

    it('filters by time: from inclusive, to exclusive', async () => {
      const middle = all[Math.floor(all.length / 2)]!;
      const from = await get(`?from=${encodeURIComponent(middle.at)}&limit=1000`);
      expect(from.body.entries.map((e: Entry) => e.seq)).to.deep.equal(all.filter((e) => e.at >= middle.at).map((e) => e.seq));
      const to = await get(`?to=${encodeURIComponent(middle.at)}&limit=1000`);
      expect(to.body.entries.map((e: Entry) => e.seq)).to.deep.equal(all.filter((e) => e.at < middle.at).map((e) => e.seq));
    });

    it('refuses unknown filters and bad values with INVALID_REQUEST naming the field; non-auditors get FORBIDDEN', async () => {
      for (const [q, field] of [
        ['?principal=alice', 'query'],
        ['?from=yesterday', 'from'],
        ['?limit=0', 'limit'],
        ['?before=5', 'before'],
      ] as const) {
        const r = await get(q);
        expect(r.status, q).to.equal(400);
        expect(r.body.error.code).to.equal('INVALID_REQUEST');
        expect(r.body.error.details.field, q).to.equal(field);
      }
      expect((await get('?actor=alice', 'alice')).status).to.equal(403);
    });
  });
}
