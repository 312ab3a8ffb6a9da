import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { startService, type TestService } from '../support/service.ts';

/** RS256 and ES256 tokens verified against a JWKS served on loopback, with issuer and audience. */
describe('OpenID Connect JWTs through DPQ_JWKS_URL (pg)', function () {
  this.timeout(120_000);
  let jwks: http.Server;
  let svc: TestService;
  type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  const keys = {} as Record<'RS256' | 'ES256', PrivateKey>;

  before(async () => {
    const rsa = await generateKeyPair('RS256');
    const ec = await generateKeyPair('ES256');
    keys.RS256 = rsa.privateKey;
    keys.ES256 = ec.privateKey;
    const body = JSON.stringify({
      keys: [
        { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
        { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
      ],
    });
    jwks = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    svc = await startService('pg', { env: { DPQ_JWKS_URL: url, DPQ_JWT_ISSUER: 'https://idp.test', DPQ_JWT_AUDIENCE: 'dpq' } });
  });
  after(async () => {
    await svc?.stop();
    jwks?.close();
  });

  const token = (alg: 'RS256' | 'ES256', claims: { iss?: string; aud?: string; sub?: string } = {}): Promise<string> =>
    new SignJWT({})
      .setProtectedHeader({ alg, kid: alg === 'RS256' ? 'rsa-1' : 'ec-1' })
      .setSubject(claims.sub ?? 'alice')
      .setIssuer(claims.iss ?? 'https://idp.test')
      .setAudience(claims.aud ?? 'dpq')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(keys[alg]);

  it('accepts RS256 and ES256 tokens from the provider', async () => {
    for (const alg of ['RS256', 'ES256'] as const) {
      expect((await svc.request('GET', '/v1/datasets', { token: await token(alg) })).status, alg).to.equal(200);
    }
  });

  it('refuses a wrong issuer, a wrong audience and an unknown subject', async () => {
    expect((await svc.request('GET', '/v1/datasets', { token: await token('RS256', { iss: 'https://evil.test' }) })).status).to.equal(401);
    expect((await svc.request('GET', '/v1/datasets', { token: await token('RS256', { aud: 'other' }) })).status).to.equal(401);
    expect((await svc.request('GET', '/v1/datasets', { token: await token('ES256', { sub: 'mallory' }) })).status).to.equal(401);
  });

  it('still accepts HS256 tokens signed with DPQ_JWT_SECRET', async () => {
    expect((await svc.request('GET', '/v1/datasets', { principal: 'alice' })).status).to.equal(200);
  });
});
