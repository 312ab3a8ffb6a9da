import crypto from 'node:crypto';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { BACKENDS, startService, TEST_JWT_SECRET, type TestService } from '../support/service.ts';

const secret = new TextEncoder().encode(TEST_JWT_SECRET);

async function jwt(sub: string, opts: { secret?: Uint8Array; exp?: number } = {}): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 600)
    .sign(opts.secret ?? secret);
}

for (const backend of BACKENDS) {
  describe(`authentication and authorization (${backend})`, function () {
    this.timeout(120_000);
    let svc: TestService;
    before(async () => {
      svc = await startService(backend);
    });
    after(async () => svc?.stop());

    async function expectError(res: Response, status: number, code: string): Promise<void> {
      expect(res.status).to.equal(status);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).to.equal(code);
      expect(body.error.message).to.be.a('string').and.not.empty;
    }

    it('should answer a valid token of a principal that may query', async () => {
      const res = await svc.request('GET', '/v1/datasets', { principal: 'alice' });
      expect(res.status).to.equal(200);
      const body = (await res.json()) as { datasets: { name: string; tables: Record<string, unknown> }[] };
      expect(body.datasets.map((d) => d.name)).to.deep.equal(['clinic']);
      expect(Object.keys(body.datasets[0]!.tables)).to.have.members(['patients', 'visits']);
    });

    it('should not authorize a request without credentials', async () => {
      await expectError(await svc.request('GET', '/v1/datasets'), 401, 'UNAUTHENTICATED');
    });

    it('should not authorize an expired token', async () => {
      const token = await jwt('alice', { exp: Math.floor(Date.now() / 1000) - 60 });
      await expectError(await svc.request('GET', '/v1/datasets', { token }), 401, 'UNAUTHENTICATED');
    });

    it('should not authorize a token signed with another secret', async () => {
      const token = await jwt('alice', { secret: crypto.randomBytes(32) });
      await expectError(await svc.request('GET', '/v1/datasets', { token }), 401, 'UNAUTHENTICATED');
    });

    it('should not authorize a token with alg none', async () => {
      const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify({ sub: 'root' })).toString('base64url');
      await expectError(await svc.request('GET', '/v1/datasets', { token: `${header}.${payload}.` }), 401, 'UNAUTHENTICATED');
    });

    it('should not authorize a token without an expiry', async () => {
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt().sign(secret);
      await expectError(await svc.request('GET', '/v1/datasets', { token }), 401, 'UNAUTHENTICATED');
    });

    it('should not authorize a principal the policy does not know', async () => {
      await expectError(await svc.request('GET', '/v1/datasets', { token: await jwt('mallory') }), 401, 'UNAUTHENTICATED');
    });

    it('should not authorize a wrong API key', async () => {
      await expectError(await svc.request('GET', '/v1/datasets', { token: 'dpq_demo_dashboard_kez' }), 401, 'UNAUTHENTICATED');
    });

    it('should take roles from the policy: the dashboard API key may not read the audit log', async () => {
      await expectError(await svc.request('GET', '/v1/audit', { token: 'dpq_demo_dashboard_key' }), 403, 'FORBIDDEN');
      const listed = (await (await svc.request('GET', '/v1/datasets', { token: 'dpq_demo_dashboard_key' })).json()) as { datasets: unknown[] };
      expect(listed.datasets).to.deep.equal([]);
    });

    it('should refuse an approver running a query', async () => {
      await expectError(await svc.request('POST', '/v1/queries', { principal: 'bob', body: { sql: 'SELECT COUNT(*) FROM visits' } }), 403, 'FORBIDDEN');
    });
  });
}
