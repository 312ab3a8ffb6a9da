/**
 * GET /v1/openapi.json: every mounted `/v1` route is in it, and the responses the test services
 * answered (this file's walk over every route, and whatever ran before it in this process)
 * validate against it.
 */
import { Router } from 'express';
import { expect } from 'chai';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ROUTES } from '../../src/http/routes/index.ts';
import { recordedResponses, startService, type TestService } from '../support/service.ts';

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>; components: { schemas: Record<string, object> } };

describe('the OpenAPI document (pg)', function () {
  this.timeout(120_000);
  let svc: TestService;
  let doc: Doc;
  before(async () => {
    svc = await startService('pg');
    const res = await svc.request('GET', '/v1/openapi.json');
    expect(res.status).to.equal(200);
    doc = (await res.json()) as Doc;
  });
  after(async () => svc?.stop());

  const call = async (method: string, route: string, principal: string | undefined, body?: unknown): Promise<any> => {
    const res = await svc.request(method, route, { ...(principal === undefined ? {} : { principal }), ...(body === undefined ? {} : { body }) });
    return res.json();
  };

  it('is OpenAPI 3.1 without credentials, and lists every mounted /v1 route', () => {
    expect(doc.openapi).to.equal('3.1.0');
    const router = Router();
    for (const mount of ROUTES) mount(router, svc.runtime);
    const mounted = router.stack.flatMap((layer) => {
      const route = layer.route as { path: string; methods: Record<string, boolean> } | undefined;
      if (route === undefined) return [];
      return Object.keys(route.methods).map((m) => `${m} /v1${route.path.replace(/:(\w+)/g, '{$1}')}`);
    });
    expect(mounted.length).to.be.greaterThan(15);
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    for (const route of mounted) expect(documented, route).to.include(route);
    expect(documented).to.include('get /v1/openapi.json');
  });

  it('every route answers in the shape it documents (a walk over all of them)', async () => {
    await call('GET', '/v1/me', 'alice');
    await call('GET', '/v1/datasets', 'alice');
    const answer = await call('POST', '/v1/queries', 'alice', { sql: 'SELECT region, COUNT(*) AS n, AVG(cost) FROM visits GROUP BY region', epsilon: 0.3 });
    await call('POST', '/v1/queries', 'alice', { sql: 'SELECT region, COUNT(*) AS n, AVG(cost) FROM visits GROUP BY region', epsilon: 0.3 });
    await call('POST', '/v1/queries', 'alice', { sql: 'SELECT * FROM visits' });
    await call('POST', '/v1/queries/estimate', 'alice', { sql: 'SELECT COUNT(*) FROM visits', accuracy: { column: 'count', halfWidth: 20 } });
    await call('GET', '/v1/queries?limit=5', 'alice');
    await call('GET', `/v1/queries/${answer.id}`, 'alice');
    await call('GET', '/v1/budget', 'alice');
    await call('GET', '/v1/metrics', 'alice');
    await call('GET', '/v1/metrics/visits_by_region', 'alice');
    await call('GET', '/v1/metrics/visits_by_region/history', 'alice');
    const raw = await call('POST', '/v1/access-requests', 'alice', { kind: 'raw', dataset: 'clinic', columns: ['patients.email'], justification: 'INC-4411: duplicate invoices for one patient, need to find the rows', durationMinutes: 60 });
    const budget = await call('POST', '/v1/access-requests', 'alice', { kind: 'budget', dataset: 'clinic', epsilon: 1, justification: 'INC-4412: the quarterly report needs a few more queries' });
    await call('GET', '/v1/access-requests?mine=true', 'alice');
    await call('GET', `/v1/access-requests/${raw.id}`, 'alice');
    await call('POST', `/v1/access-requests/${raw.id}/approve`, 'bob', { comment: 'ok' });
    await call('POST', `/v1/access-requests/${raw.id}/approve`, 'carol', {});
    await call('POST', `/v1/access-requests/${budget.id}/deny`, 'bob', { reason: 'not now' });
    const rows = await call('POST', '/v1/raw-queries', 'alice', { requestId: raw.id, sql: 'SELECT patient_id, email, birth_year FROM patients WHERE birth_year > 1990 LIMIT 3' });
    await call('POST', '/v1/tokens/reveal', 'alice', { requestId: raw.id, tokens: [rows.rows[0].email, rows.rows[0].patient_id] });
    await call('POST', `/v1/access-requests/${raw.id}/revoke`, 'bob', { reason: 'done' });
    const other = await call('POST', '/v1/access-requests', 'sam', { kind: 'budget', dataset: 'clinic', epsilon: 1, justification: 'INC-4413: the weekly report needs a few more queries' });
    await call('POST', `/v1/access-requests/${other.id}/cancel`, 'sam', {});
    await call('GET', '/v1/audit?actor=alice&limit=50', 'carol');
    await call('GET', '/v1/audit/verify', 'carol');
    await call('GET', '/v1/audit', 'alice');
    await call('GET', '/v1/access-reviews', 'carol');
    await call('GET', '/v1/alerts', 'carol');
    await call('POST', '/v1/integrations/slack/actions', undefined, { payload: 'unsigned' });
    await call('GET', '/v1/budget', undefined);

    const seen = new Set(recordedResponses.map((r) => `${r.method} ${template(r.path)}`));
    for (const [p, ops] of Object.entries(doc.paths)) for (const m of Object.keys(ops)) expect(seen, `${m} ${p}`).to.include(`${m} ${p}`);
  });

  function template(path: string): string {
    const parts = path.split('/');
    const match = Object.keys(doc.paths).find((p) => {
      const t = p.split('/');
      return t.length === parts.length && t.every((x, i) => x.startsWith('{') || x === parts[i]);
    });
    return match ?? path;
  }

  it('every recorded response of this process validates against the document', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    ajv.addSchema({ $id: 'dpq', components: doc.components }, 'dpq');
    const failures: string[] = [];
    let checked = 0;
    for (const r of recordedResponses) {
      const op = doc.paths[template(r.path)]?.[r.method];
      if (op === undefined) {
        // No such route: only an error may come back (401 before routing, 404 after).
        if (r.status < 400 || !ajv.validate({ $ref: 'dpq#/components/schemas/Error' }, r.body)) failures.push(`${r.method} ${r.path} ${r.status}: an undocumented route answered something else than an error`);
        continue;
      }
      const response = op.responses[String(r.status)];
      if (response === undefined) {
        failures.push(`${r.method} ${r.path}: status ${r.status} not documented`);
        continue;
      }
      const schema = JSON.parse(JSON.stringify(response.content!['application/json']!.schema).replace(/"#\/components/g, '"dpq#/components'));
      if (!ajv.validate(schema, r.body)) failures.push(`${r.method} ${r.path} ${r.status}: ${ajv.errorsText(ajv.errors)}`);
      checked++;
    }
    expect(checked).to.be.greaterThan(25);
    expect(failures).to.deep.equal([]);
  });
});
