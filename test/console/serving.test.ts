/**
 * How the console is served (no browser needed): the bundle from memory with ETags and a strict
 * CSP, and the demo token picker's endpoint only in embedded demo mode with a random secret.
 */
import http from 'node:http';
import { expect } from 'chai';
import { startService, type TestService } from '../support/service.ts';

interface Picker {
  principals: { name: string; roles: string[]; token: string }[];
}

/** GET with a chosen Host header (fetch does not let a caller set it). */
function getWithHost(url: string, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    http.get({ hostname: u.hostname, port: u.port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('web console: serving', function () {
  this.timeout(120_000);

  describe('on PostgreSQL (DATABASE_URL set)', () => {
    let svc: TestService;
    before(async () => {
      svc = await startService('pg');
    });
    after(async () => svc?.stop());

    it('serves the page, its script and its stylesheet from the bundle, revalidated by ETag', async () => {
      const page = await svc.request('GET', '/');
      expect(page.status).to.equal(200);
      expect(page.headers.get('content-type')).to.match(/^text\/html/);
      const html = await page.text();
      expect(html).to.contain('<script type="module" src="/assets/console.js"></script>');
      for (const [path, type] of [['/assets/console.js', /^text\/javascript/], ['/assets/console.css', /^text\/css/]] as const) {
        const res = await svc.request('GET', path);
        expect(res.status).to.equal(200);
        expect(res.headers.get('content-type')).to.match(type);
        expect(res.headers.get('cache-control')).to.equal('no-cache');
        expect((await res.arrayBuffer()).byteLength).to.be.greaterThan(1000);
        const again = await svc.request('GET', path, { headers: { 'if-none-match': res.headers.get('etag')! } });
        expect(again.status).to.equal(304);
      }
    });

    it('keeps helmet’s strict headers on the page', async () => {
      const res = await svc.request('GET', '/');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).to.match(/script-src 'self'(;|$)/);
      expect(csp).to.contain("script-src-attr 'none'");
      expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(res.headers.get('x-frame-options')).to.equal('SAMEORIGIN');
    });

    it('has no /demo/tokens', async () => {
      const res = await svc.request('GET', '/demo/tokens');
      expect(res.status).to.equal(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('NOT_FOUND');
    });

    it('leaves unknown paths 404 and the API unauthenticated without a token', async () => {
      expect((await svc.request('GET', '/assets/other.js')).status).to.equal(404);
      expect((await svc.request('GET', '/v1/datasets')).status).to.equal(401);
    });
  });

  describe('embedded demo mode', () => {
    it('hands loopback clients the demo principals’ tokens when the JWT secret is random per start', async () => {
      const svc = await startService('pglite', { env: { DPQ_JWT_SECRET: '' } });
      try {
        const res = await svc.request('GET', '/demo/tokens');
        expect(res.status).to.equal(200);
        expect(res.headers.get('cache-control')).to.equal('no-store');
        const { principals } = (await res.json()) as Picker;
        expect(principals.map((p) => p.name)).to.deep.equal(['alice', 'sam', 'bob', 'carol', 'root']); // not dash: it has an API key
        expect(principals.find((p) => p.name === 'carol')!.roles).to.deep.equal(['approver', 'auditor']);
        const alice = principals.find((p) => p.name === 'alice')!.token;
        expect((await svc.request('GET', '/v1/datasets', { token: alice })).status).to.equal(200);
        // Tokens of the test secret do not work: the secret really is this start's own.
        expect((await svc.request('GET', '/v1/datasets', { principal: 'alice' })).status).to.equal(401);
        // A page that rebinds its DNS name to 127.0.0.1 sends its own Host: no tokens for it.
        expect(await getWithHost(svc.url, '/demo/tokens', 'evil.example:8080')).to.equal(404);
        expect(await getWithHost(svc.url, '/demo/tokens', new URL(svc.url).host)).to.equal(200);
      } finally {
        await svc.stop();
      }
    });

    it('has no /demo/tokens when DPQ_JWT_SECRET is set', async () => {
      const svc = await startService('pglite');
      try {
        expect((await svc.request('GET', '/demo/tokens')).status).to.equal(404);
      } finally {
        await svc.stop();
      }
    });
  });
});
