/**
 * Bad input that used to be answered 500 or let something through: deep NOT nesting, bad
 * percent-encoding, refused raw queries whose literals reached the audit log, a non-string JWT
 * `sub`, a body that never arrives, OPTIONS. On both backends.
 */
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { auditEntries, grant, type Json, rawQuery, STANDARD_EDITS, testPolicy } from '../access/support.ts';
import { BACKENDS, startService, TEST_JWT_SECRET, type TestService } from '../support/service.ts';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const nots = (n: number, table = 'visits', condition = "region <> 'north'"): string => `SELECT COUNT(*) FROM ${table} WHERE ${'NOT '.repeat(n)}${condition}`;

async function errorOf(res: Response): Promise<ErrorBody['error']> {
  return ((await res.json()) as ErrorBody).error;
}

/** Send raw bytes over TCP and resolve with what comes back before the server closes. */
function rawExchange(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(bytes));
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
  });
}

describe('deep nesting under an optimizing V8 (libpg-query fingerprint)', function () {
  this.timeout(120_000);

  it('fingerprints a query nested 60 levels deep with the WASM optimizing tier forced on', () => {
    // --no-liftoff compiles libpg-query's WASM with TurboFan at once: what a busy server reaches
    // after some use. Its fingerprint recursion ran out of stack at about 14 nested NOTs.
    const script = `
      import { shapeFingerprint, redact } from './src/sql/index.ts';
      const sql = ${JSON.stringify(nots(60))};
      const shape = await shapeFingerprint(sql);
      const redacted = await redact(sql);
      process.stdout.write(JSON.stringify({ shape, redacted }));`;
    const r = spawnSync(process.execPath, ['--no-liftoff', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as { shape: string; redacted: string };
    expect(out.shape).to.match(/^[0-9a-f]{16}$/);
    expect(out.redacted).to.not.include('north');
  });
});

for (const backend of BACKENDS) {
  describe(`hostile requests (${backend})`, function () {
    this.timeout(240_000);
    let svc: TestService;
    before(async () => {
      svc = await startService(backend, { policy: testPolicy(STANDARD_EDITS).policy, env: { DPQ_BODY_TIMEOUT_MS: '500' } });
    });
    after(async () => svc?.stop());

    it('refuses nesting deeper than the bound with SQL_NOT_ALLOWED naming it, on estimate and query', async () => {
      for (const route of ['/v1/queries/estimate', '/v1/queries']) {
        const res = await svc.request('POST', route, { principal: 'alice', body: { sql: nots(1500), epsilon: 0.1 } });
        expect(res.status, route).to.equal(422);
        const e = await errorOf(res);
        expect(e.code).to.equal('SQL_NOT_ALLOWED');
        expect(e.details?.construct).to.equal('nesting depth');
        expect(e.details?.position).to.be.a('number');
        expect(e.message).to.include('64');
      }
      const ok = await svc.request('POST', '/v1/queries/estimate', { principal: 'alice', body: { sql: nots(50), epsilon: 0.1 } });
      expect(ok.status).to.equal(200);
    });

    it('keeps answering moderately nested queries after many of them (no 500 growing with use)', async () => {
      const statuses = new Map<number, number>();
      for (let i = 0; i < 80; i++) {
        const route = i % 2 === 0 ? '/v1/queries' : '/v1/queries/estimate';
        const res = await svc.request('POST', route, { principal: 'alice', body: { sql: nots(14 + (i % 17)), epsilon: 0.01 } });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
      expect(Object.fromEntries(statuses)).to.deep.equal({ 200: 80 });
    });

    it('refuses deep nesting in raw queries too, and keeps no literal of any refused statement in the audit log', async () => {
      const g = await grant(svc, 'alice', ['patients.zip']);
      const deep = await rawQuery(svc, 'alice', g.id as string, `SELECT zip FROM patients WHERE ${'NOT '.repeat(1500)}zip <> '94110'`, 422, 'SQL_NOT_ALLOWED');
      expect((deep as ErrorBody).error.details?.construct).to.equal('nesting depth');
      // A NUL never gets as far as the SQL front end (see the NUL test below).
      await rawQuery(svc, 'alice', g.id as string, "SELECT email FROM patients WHERE email \u0000<> 'Secret-777'", 400, 'INVALID_REQUEST');
      const refused: [string, number][] = [
        ["PREPARE p AS SELECT email FROM patients WHERE email = 'Secret-A6'", 422],
        ["CREATE TABLE x AS SELECT email FROM patients WHERE email = 'Secret-A1'", 422],
        ["CREATE VIEW v AS SELECT email FROM patients WHERE email = 'Secret-V1'", 422],
        ["ALTER TABLE patients ALTER COLUMN zip SET DEFAULT 'Secret-D1'", 422],
        ["COMMENT ON TABLE patients IS 'Secret-C1'", 422],
        ["CREATE TABLE y (a text DEFAULT 'Secret-T1' CHECK (a <> 'Secret-T2'))", 422],
        ["EXPLAIN SELECT email FROM patients WHERE email = 'Secret-E1'", 422],
        [`SELECT zip FROM patients WHERE ${'NOT '.repeat(1500)}zip <> 'Secret-N1'`, 422],
      ];
      for (const [sql, status] of refused) await rawQuery(svc, 'alice', g.id as string, sql, status);
      const entries = (await auditEntries(svc)).filter((e: Json) => e.action === 'access.raw_query' && e.requestId === g.id);
      expect(entries).to.have.length(refused.length + 1);
      expect(JSON.stringify(entries)).to.not.match(/Secret|94110/);
      const kept = entries.map((e: Json) => e.sqlRedacted as string);
      expect(kept).to.include('PREPARE p AS SELECT email FROM patients WHERE email = $1');
      expect(kept).to.include('CREATE TABLE x AS SELECT email FROM patients WHERE email = $1');
    });

    it('refuses a NUL character in any body field, query string or path with 400 INVALID_REQUEST', async () => {
      const justification = 'INC-4411: duplicate invoices \u0000 for one patient, need the rows';
      const cases: [string, string, string, unknown, string][] = [
        ['POST', '/v1/access-requests', 'sam', { kind: 'raw', dataset: 'clinic', columns: ['patients.zip'], justification, ticket: 'INC-1', durationMinutes: 60 }, 'justification'],
        ['POST', '/v1/queries', 'alice', { sql: "SELECT COUNT(*) FROM visits WHERE region = 'a\u0000'" }, 'sql'],
        ['POST', '/v1/queries/estimate', 'alice', { sql: 'SELECT COUNT(*) FROM visits', 'x\u0000': 1 }, 'x\u0000'],
        ['GET', '/v1/access-requests?status=%00', 'alice', undefined, 'query.status'],
        ['GET', '/v1/metrics/a%00b', 'dash', undefined, 'path'],
      ];
      for (const [method, route, principal, body, field] of cases) {
        const res = await svc.request(method, route, { principal, ...(body === undefined ? {} : { body }) });
        expect(res.status, route).to.equal(400);
        const e = await errorOf(res);
        expect(e.code, route).to.equal('INVALID_REQUEST');
        expect(e.details?.field, route).to.equal(field);
      }
      expect((await svc.request('POST', '/v1/queries', { body: { sql: '\u0000' } })).status).to.equal(401);
    });

    it('answers bad percent-encoding in a path with 400 INVALID_REQUEST', async () => {
      const cases: [string, string, string][] = [
        ['GET', '/v1/access-requests/%ff', 'alice'],
        ['POST', '/v1/access-requests/%ff/approve', 'bob'],
        ['GET', '/v1/metrics/%ff', 'dash'],
        ['GET', '/v1/metrics/%E0%A4%A', 'alice'],
      ];
      for (const [method, route, principal] of cases) {
        const res = await svc.request(method, route, { principal, ...(method === 'POST' ? { body: {} } : {}) });
        expect(res.status, route).to.equal(400);
        const e = await errorOf(res);
        expect(e.code, route).to.equal('INVALID_REQUEST');
        expect(e.details?.field).to.equal('path');
      }
    });

    it('refuses a correctly signed token whose sub is not a string with 401', async () => {
      const secret = new TextEncoder().encode(TEST_JWT_SECRET);
      for (const sub of [['carol'], { name: 'carol' }, 42, '']) {
        const token = await new SignJWT({ sub: sub as unknown as string }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(secret);
        const res = await svc.request('GET', '/v1/audit', { token });
        expect(res.status, JSON.stringify(sub)).to.equal(401);
        expect((await errorOf(res)).code).to.equal('UNAUTHENTICATED');
      }
      const good = await new SignJWT({ sub: 'carol' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(secret);
      expect((await svc.request('GET', '/v1/audit', { token: good })).status).to.equal(200);
    });

    it('answers a declared body that never arrives with 400 and closes the connection', async () => {
      const token = await svc.token('alice');
      const head = `POST /v1/queries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"sql":`;
      const answer = await rawExchange(svc.url, head); // resolves once the server closes the socket
      expect(answer).to.match(/^HTTP\/1\.1 400 /);
      expect(answer).to.include('"code":"INVALID_REQUEST"');
      expect(answer.toLowerCase()).to.include('connection: close');
    });

    it('answers OPTIONS with the JSON error body, never plain text', async () => {
      for (const [route, principal] of [['/v1/budget', 'alice'], ['/healthz', undefined], ['/v1/queries', undefined]] as const) {
        const res = await svc.request('OPTIONS', route, principal === undefined ? {} : { principal });
        expect(res.status, route).to.equal(404);
        expect(res.headers.get('content-type')).to.match(/^application\/json/);
        expect((await errorOf(res)).code).to.equal('NOT_FOUND');
      }
    });
  });
}
