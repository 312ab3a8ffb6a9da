import { expect } from 'chai';
import { BACKENDS, startService, type TestService } from '../support/service.ts';

for (const backend of BACKENDS) {
  describe(`HTTP edge (${backend})`, function () {
    this.timeout(120_000);
    let svc: TestService;
    before(async () => {
      svc = await startService(backend);
    });
    after(async () => svc?.stop());

    it('serves /healthz and /readyz', async () => {
      const h = await svc.request('GET', '/healthz');
      expect(h.status).to.equal(200);
      expect(await h.json()).to.deep.equal({ status: 'ok' });
      const r = await svc.request('GET', '/readyz');
      expect(r.status).to.equal(200);
    });

    it('echoes the caller x-request-id and makes one otherwise', async () => {
      const given = await svc.request('GET', '/healthz', { headers: { 'x-request-id': 'abc-123' } });
      expect(given.headers.get('x-request-id')).to.equal('abc-123');
      const made = await svc.request('GET', '/healthz');
      expect(made.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    });

    it('sets security headers', async () => {
      const res = await svc.request('GET', '/healthz');
      expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(res.headers.get('content-security-policy')).to.be.a('string');
      expect(res.headers.get('x-powered-by')).to.equal(null);
    });

    it('answers malformed JSON with 400 INVALID_REQUEST and the error body', async () => {
      const res = await svc.request('POST', '/v1/datasets', { principal: 'alice', body: '{"sql": ' });
      expect(res.status).to.equal(400);
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).to.equal('INVALID_REQUEST');
    });

    it('answers a corrupt compressed body with 400, not 500', async () => {
      const res = await svc.request('POST', '/v1/queries', { principal: 'alice', body: 'not gzip at all', headers: { 'content-encoding': 'gzip' } });
      expect(res.status).to.equal(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('INVALID_REQUEST');
    });

    it('refuses a body above 64 KiB with 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await svc.request('POST', '/v1/datasets', { principal: 'alice', body: { sql: 'x'.repeat(70 * 1024) } });
      expect(res.status).to.equal(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('PAYLOAD_TOO_LARGE');
    });

    it('answers an unknown endpoint with 404 NOT_FOUND', async () => {
      const res = await svc.request('GET', '/v1/nothing-here', { principal: 'alice' });
      expect(res.status).to.equal(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('NOT_FOUND');
    });

    it('exposes Prometheus metrics with request counts by route and status', async () => {
      await svc.request('GET', '/healthz');
      const res = await svc.request('GET', '/metrics');
      expect(res.status).to.equal(200);
      const text = await res.text();
      expect(text).to.match(/dpq_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
      expect(text).to.include('dpq_http_request_duration_seconds_bucket');
      expect(text).to.include('process_cpu_user_seconds_total');
    });
  });
}

describe('rate limit (pg)', function () {
  this.timeout(60_000);
  it('answers 429 RATE_LIMITED with Retry-After past DPQ_RATE_LIMIT requests a minute per principal', async () => {
    const svc = await startService('pg', { env: { DPQ_RATE_LIMIT: '5' } });
    try {
      for (let i = 0; i < 5; i++) expect((await svc.request('GET', '/v1/budget', { principal: 'alice' })).status).to.equal(200);
      const limited = await svc.request('GET', '/v1/budget', { principal: 'alice' });
      expect(limited.status).to.equal(429);
      expect(limited.headers.get('retry-after')).to.equal('12');
      expect(((await limited.json()) as { error: { code: string } }).error.code).to.equal('RATE_LIMITED');
      expect((await svc.request('GET', '/v1/budget', { principal: 'sam' })).status).to.equal(200);
      // An error raised inside a /v1 route keeps its full route label.
      expect((await svc.request('POST', '/v1/queries', { principal: 'sam', body: { sql: 'SELECT * FROM visits' } })).status).to.equal(422);
      const metrics = await (await svc.request('GET', '/metrics')).text();
      expect(metrics).to.match(/dpq_http_requests_total\{method="GET",route="unmatched",status="429"\} 1/);
      expect(metrics).to.match(/dpq_http_requests_total\{method="POST",route="\/v1\/queries",status="422"\} 1/);
    } finally {
      await svc.stop();
    }
  });
});
