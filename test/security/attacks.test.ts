/**
 * Attacks that are refused, kept refused. Each table row is one attempt a hostile analyst, approver
 * or outsider made against a running service (real HTTP, real warehouse), with the refusal it must
 * keep getting. Refusals of SQL must cost nothing: the budget stays untouched and raw-grant quotas
 * are not consumed.
 */
import { expect } from 'chai';
import crypto from 'node:crypto';
import { BACKENDS, startService, TEST_JWT_SECRET, type TestService } from '../support/service.ts';

type Json = Record<string, any>;

const JUSTIFICATION = 'INC-4411: duplicate invoices for one patient, need to find the rows';

async function call(svc: TestService, method: string, route: string, principal: string | undefined, body?: unknown, token?: string): Promise<{ status: number; body: Json; text: string }> {
  const res = await svc.request(method, route, { ...(principal === undefined ? {} : { principal }), ...(token === undefined ? {} : { token }), body });
  const text = await res.text();
  let parsed: Json = {};
  try {
    parsed = JSON.parse(text) as Json;
  } catch {
    parsed = {};
  }
  return { status: res.status, body: parsed, text };
}

/** Aggregate queries outside the subset: [sql, construct named in the refusal]. */
const AGGREGATE_REFUSED: readonly (readonly [string, string])[] = [
  // functions, operators and casts that can raise an error or run long
  ['SELECT COUNT(*) FROM visits WHERE pg_sleep(1) IS NULL', 'function pg_sleep'],
  ['SELECT COUNT(*) FROM visits WHERE cost / 0 > 1', 'operator /'],
  ['SELECT COUNT(*) FROM visits WHERE cost::int > 1', 'cast'],
  ['SELECT COUNT(*) FROM visits WHERE CAST(diagnosis AS int) > 1', 'cast'],
  ["SELECT COUNT(*) FROM visits WHERE visited_on = DATE '2024-01-01'", 'cast'],
  ['SELECT SUM(cost * 2) FROM visits', 'operator *'],
  ["SELECT AVG(birth_year) FROM patients WHERE set_config('a', 'b', false) = 'b'", 'function set_config'],
  ["SELECT COUNT(*) FROM visits WHERE diagnosis ~ '(a+)+$'", 'operator ~'],
  ["SELECT COUNT(*) FROM visits WHERE diagnosis SIMILAR TO 'J%'", 'SIMILAR TO'],
  ["SELECT COUNT(*) FROM visits WHERE diagnosis = repeat('a', 100000000)", 'function repeat'],
  ["SELECT date_part('year', visited_on), COUNT(*) FROM visits GROUP BY 1", 'function date_part'],
  ["SELECT pg_catalog.date_trunc('month', visited_on), COUNT(*) FROM visits GROUP BY 1", 'function pg_catalog.date_trunc'],
  ['SELECT extract(epoch FROM visited_on), COUNT(*) FROM visits GROUP BY 1', 'extract'],
  ['SELECT extract(hour FROM visited_on), COUNT(*) FROM visits GROUP BY 1', 'extract'],
  // LIKE: a pattern ending in a lone escape fails only on rows that match up to it (an error oracle)
  ["SELECT COUNT(*) FROM patients WHERE email <> 'x@example.org' OR ssn LIKE '946-6%\\'", 'LIKE pattern'],
  ["SELECT COUNT(*) FROM visits WHERE diagnosis ILIKE 'j45\\'", 'LIKE pattern'],
  ["SELECT COUNT(*) FROM visits WHERE diagnosis NOT LIKE E'J45\\\\'", 'LIKE pattern'],
  ["SELECT COUNT(*) FROM visits WHERE diagnosis LIKE 'J%' ESCAPE '!'", 'LIKE … ESCAPE'],
  ["SELECT COUNT(*) FROM visits WHERE diagnosis LIKE '%a%b%c%d%e'", 'LIKE pattern'],
  ["SELECT COUNT(*) FROM visits WHERE diagnosis LIKE 'J%' COLLATE \"C\"", 'COLLATE'],
  // subqueries, CTEs, set operations, several statements, non-SELECT statements
  ['SELECT COUNT(*) FROM visits WHERE diagnosis = (SELECT ssn FROM patients LIMIT 1)', 'subquery'],
  ["SELECT COUNT(*) FROM visits WHERE EXISTS (SELECT 1 FROM patients WHERE ssn LIKE '1%')", 'subquery'],
  ["SELECT COUNT(*) FROM visits WHERE region = 'north' OR EXISTS (SELECT pg_sleep(5))", 'subquery'],
  ['SELECT COUNT(*) FROM (SELECT * FROM visits) v', 'subquery'],
  ['WITH v AS (SELECT * FROM visits) SELECT COUNT(*) FROM v', 'WITH'],
  ['SELECT COUNT(*) FROM visits UNION SELECT COUNT(*) FROM patients', 'UNION'],
  ['SELECT COUNT(*) FROM visits; SELECT COUNT(*) FROM patients', 'multiple statements'],
  ['EXPLAIN SELECT COUNT(*) FROM visits', 'EXPLAIN'],
  ['SET statement_timeout = 0', 'SET'],
  ['COPY visits TO STDOUT', 'COPY'],
  // row-level output, the unit column, excluded columns, non-DP aggregates
  ['SELECT * FROM patients', 'SELECT *'],
  ['SELECT ssn FROM patients', 'column ssn'],
  ['SELECT COUNT(*), ssn FROM patients', 'column ssn'],
  ['SELECT patient_id, COUNT(*) FROM visits GROUP BY patient_id', 'GROUP BY patient_id'],
  ['SELECT COUNT(*) FROM visits WHERE patient_id = 42', 'column patient_id'],
  ['SELECT COUNT(*) FROM visits WHERE patient_id IN (1, 2, 3)', 'column patient_id'],
  ['SELECT COUNT(DISTINCT diagnosis) FROM visits', 'COUNT(DISTINCT)'],
  ['SELECT notes, COUNT(*) FROM visits GROUP BY notes', 'column notes'],
  ["SELECT COUNT(*) FROM visits WHERE notes LIKE 'follow%'", 'column notes'],
  ['SELECT MAX(cost) FROM visits', 'function max'],
  ['SELECT MIN(birth_year) FROM patients', 'function min'],
  ["SELECT string_agg(ssn, ',') FROM patients", 'function string_agg'],
  ['SELECT array_agg(ssn) FROM patients', 'function array_agg'],
  ['SELECT PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY cost) FROM visits', 'function percentile_disc'],
  ['SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY cost DESC) FROM visits', 'PERCENTILE_CONT'],
  ['SELECT SUM(DISTINCT cost) FROM visits', 'SUM(DISTINCT)'],
  ['SELECT SUM(diagnosis) FROM visits', 'SUM(diagnosis)'],
  ['SELECT pg_catalog.count(*) FROM visits', 'function pg_catalog.count'],
  ['SELECT COUNT(*) OVER () FROM visits', 'window function'],
  ['SELECT COUNT(*) FILTER (WHERE patient_id IN (SELECT patient_id FROM patients)) FROM visits', 'subquery'],
  ["SELECT COUNT(*) FILTER (WHERE notes LIKE 'follow%') FROM visits", 'column notes'],
  ['SELECT SUM(cost) FILTER (WHERE cost / 0 > 1) FROM visits', 'operator /'],
  ['SELECT COUNT(*) FILTER (WHERE pg_sleep(1) IS NULL) FROM visits', 'function pg_sleep'],
  ['SELECT DISTINCT COUNT(*) FROM visits', 'DISTINCT'],
  ['SELECT COUNT(*) FROM visits GROUP BY ROLLUP (region)', 'GROUPING SETS'],
  // joins and tables outside the policy
  ['SELECT COUNT(*) FROM patients p, visits v', 'comma join'],
  ["SELECT COUNT(*) FROM visits v JOIN patients p ON v.patient_id = p.patient_id OR p.ssn LIKE '1%'", 'join'],
  ['SELECT COUNT(*) FROM visits v JOIN patients p ON v.patient_id = p.birth_year', 'join'],
  ['SELECT COUNT(*) FROM visits v LEFT JOIN patients p ON v.patient_id = p.patient_id', 'join'],
  ['SELECT COUNT(*) FROM visits NATURAL JOIN patients', 'join'],
  ['SELECT COUNT(*) FROM visits v JOIN visits w ON v.patient_id = w.patient_id', 'table visits'],
  ['SELECT COUNT(*) FROM pg_catalog.pg_user', 'table pg_catalog.pg_user'],
  ['SELECT COUNT(*) FROM dpq.budget_accounts', 'table dpq.budget_accounts'],
  ['SELECT COUNT(*) FROM information_schema.tables', 'table information_schema.tables'],
  ['SELECT COUNT(*) FROM "Visits"', 'table Visits'],
  ['SELECT COUNT(*) FROM generate_series(1, 10)', 'function in FROM'],
  ['SELECT COUNT(*) FROM visits TABLESAMPLE SYSTEM (1)', 'TABLESAMPLE'],
  ['SELECT COUNT(*) FROM visits FOR UPDATE', 'locking clause'],
  ['SELECT COUNT(*) INTO t FROM visits', 'SELECT INTO'],
  // unicode escapes, parameters, literals the warehouse would reject
  ['SELECT COUNT(*) FROM visits WHERE U&"diagnosis" = \'x\'', 'unicode escape'],
  ["SELECT COUNT(*) FROM visits WHERE diagnosis = U&'\\0041'", 'unicode escape'],
  ['SELECT COUNT(*) FROM visits WHERE diagnosis = $1', 'parameter'],
  ["SELECT COUNT(*) FROM visits WHERE cost > 'NaN'", 'literal'],
  ["SELECT COUNT(*) FROM visits WHERE cost > 'Infinity'", 'literal'],
  ['SELECT COUNT(*) FROM visits WHERE cost > 1e130000', 'literal'],
  ["SELECT COUNT(*) FROM visits WHERE visited_on > 'infinity'", 'literal'],
  ["SELECT COUNT(*) FROM visits WHERE visited_on > '2024-02-30'", 'literal'],
  ['SELECT COUNT(*) FROM patients WHERE birth_year = 99999999999999999999', 'literal'],
  ['SELECT COUNT(*) FROM visits WHERE region = NULL', 'NULL literal'],
  ['SELECT COUNT(*) FROM visits WHERE 1 = 1', 'constant comparison'],
  ['SELECT COUNT(*) FROM visits WHERE cost > birth_year', 'column comparison'],
  ["SELECT COUNT(*) FROM visits WHERE region COLLATE \"C\" > 'a'", 'COLLATE'],
  ["SELECT COUNT(*) FROM visits WHERE region IS DISTINCT FROM 'north'", 'IS DISTINCT FROM'],
  ["SELECT COUNT(*) FROM visits WHERE region = ANY(ARRAY['north'])", 'ANY'],
  ["SELECT COUNT(*) FROM visits WHERE (region, cost) = ('north', 1)", 'row constructor'],
  // post-processing clauses cannot reach back into the rows
  ['SELECT region, COUNT(*) FROM visits GROUP BY region ORDER BY cost', 'ORDER BY'],
  ['SELECT region, COUNT(*) FROM visits GROUP BY region ORDER BY random()', 'function random'],
  ['SELECT region, COUNT(*) FROM visits GROUP BY region LIMIT (SELECT 1)', 'LIMIT'],
  ["SELECT region, COUNT(*) FROM visits GROUP BY region HAVING region = (SELECT 'north')", 'subquery'],
  ['SELECT region, COUNT(*) FROM visits GROUP BY region HAVING SUM(cost) / 0 > 1', 'operator /'],
];

/** Raw queries that would reveal what a mask hides (grant: visits.diagnosis only): [sql, construct]. */
const RAW_REFUSED: readonly (readonly [string, string])[] = [
  ["SELECT ssn FROM patients WHERE ssn LIKE '946%'", 'column ssn'],
  ["SELECT birth_year FROM patients WHERE '5' < ssn", 'column ssn'],
  ["SELECT birth_year FROM patients WHERE (ssn) > '5'", 'column ssn'],
  ["SELECT p.birth_year FROM patients p WHERE p.ssn > '5'", 'column ssn'],
  ["SELECT birth_year FROM public.patients WHERE public.patients.ssn > '5'", 'column ssn'],
  ['SELECT birth_year FROM patients /* x */ WHERE "ssn" > \'5\'', 'column ssn'],
  ['SELECT birth_year FROM patients WHERE ssn IS NULL', 'column ssn'],
  ["SELECT birth_year AS ssn FROM patients WHERE ssn = '1'", 'column ssn'],
  ["SELECT birth_year FROM patients WHERE NOT (zip <> '94110')", 'column zip'],
  ["SELECT birth_year FROM patients WHERE zip BETWEEN '941' AND '942'", 'column zip'],
  ["SELECT birth_year FROM patients WHERE zip IN ('94110')", 'column zip'],
  ['SELECT birth_year FROM patients WHERE patient_id = 5', 'column patient_id'],
  ['SELECT ssn FROM patients ORDER BY ssn LIMIT 1', 'column ssn'],
  ['SELECT ssn AS x FROM patients ORDER BY x LIMIT 1', 'column ssn'],
  ['SELECT ssn FROM patients ORDER BY 1 LIMIT 1', 'column ssn'],
  ['SELECT zip AS birth_year FROM patients ORDER BY birth_year LIMIT 1', 'column zip'],
  ['SELECT patients.birth_year AS ssn FROM patients ORDER BY patients.ssn', 'column ssn'],
  ['SELECT birth_year FROM patients ORDER BY patient_id LIMIT 1', 'column patient_id'],
  ['SELECT lower(ssn) FROM patients', 'function lower'],
  ['SELECT ssn::text FROM patients', 'cast'],
  ['SELECT ssn COLLATE "C" FROM patients', 'COLLATE'],
  ["SELECT birth_year FROM patients WHERE ROW(ssn) > ROW('5')", 'row constructor'],
  ["SELECT birth_year FROM patients WHERE U&\"ssn\" > '5'", 'unicode escape'],
  ["SELECT birth_year FROM patients WHERE ssn SIMILAR TO '5%'", 'SIMILAR TO'],
  ["SELECT birth_year FROM patients WHERE ssn ~ '^5'", 'operator ~'],
  ["SELECT birth_year FROM patients WHERE ssn = ANY(ARRAY['1'])", 'ANY'],
  ["SELECT birth_year FROM patients WHERE ssn IS DISTINCT FROM '1'", 'IS DISTINCT FROM'],
  ["SELECT birth_year FROM patients WHERE (ssn > '5') IS TRUE", 'IS TRUE/FALSE/UNKNOWN'],
  ['SELECT birth_year FROM patients WHERE EXISTS (SELECT 1)', 'subquery'],
  ['SELECT DISTINCT ON (ssn) birth_year FROM patients', 'DISTINCT'],
  ['SELECT birth_year FROM patients ORDER BY ssn USING <', 'ORDER BY … USING'],
  ['SELECT birth_year FROM patients GROUP BY ssn', 'GROUP BY'],
  ['SELECT birth_year FROM patients p JOIN patients q USING (patient_id)', 'table patients'],
  ['SELECT birth_year FROM patients, visits', 'comma join'],
  ['SELECT birth_year FROM patients JOIN visits ON patients.ssn = visits.diagnosis', 'join'],
  ["SELECT birth_year FROM patients JOIN visits ON patients.patient_id = visits.patient_id AND patients.ssn > '5'", 'join'],
  ['SELECT birth_year FROM patients LEFT JOIN visits USING (patient_id)', 'join'],
  ['SELECT birth_year FROM patients TABLESAMPLE BERNOULLI (10)', 'TABLESAMPLE'],
  ["SELECT birth_year FROM patients WHERE zip LIKE '941%' ESCAPE '!'", 'column zip'],
  ['SELECT birth_year FROM pg_catalog.pg_authid', 'table pg_catalog.pg_authid'],
  ['SELECT token FROM dpq.token_vault', 'table dpq.token_vault'],
  ['SELECT birth_year FROM patients LIMIT 1; SELECT 1', 'multiple statements'],
  ['SELECT birth_year FROM patients FOR UPDATE', 'locking clause'],
  ['SELECT birth_year FROM patients WHERE birth_year = 1990 ORDER BY visits.diagnosis', 'table visits'],
];

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');
function hs256(secret: string, header: object, payload: object): string {
  const signing = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  return `${signing}.${crypto.createHmac('sha256', secret).update(signing).digest('base64url')}`;
}

for (const backend of BACKENDS) {
  describe(`security: refused attacks (${backend})`, function () {
    this.timeout(180_000);
    let svc: TestService;
    let samGrant: string;
    before(async () => {
      svc = await startService(backend);
      const g = await call(svc, 'POST', '/v1/access-requests', 'sam', { kind: 'raw', dataset: 'clinic', columns: ['visits.diagnosis'], justification: JUSTIFICATION, durationMinutes: 60 });
      expect(g.status, g.text).to.equal(201);
      expect(g.body.status).to.equal('approved'); // senior-analyst auto-approval for a quasi column
      samGrant = g.body.id as string;
    });
    after(async () => svc?.stop());

    describe('aggregate SQL outside the subset is refused before the warehouse, for free', () => {
      for (const [sql, construct] of AGGREGATE_REFUSED) {
        it(`${construct}: ${sql}`, async () => {
          const r = await call(svc, 'POST', '/v1/queries', 'alice', { sql, epsilon: 0.01, delta: 1e-7 });
          expect(r.status, r.text).to.equal(422);
          expect(r.body.error.code).to.equal('SQL_NOT_ALLOWED');
          expect(r.body.error.details.construct).to.equal(construct);
        });
      }
      it('charged nothing for any of them', async () => {
        const b = await call(svc, 'GET', '/v1/budget', 'alice');
        expect(b.body.budgets[0].epsilon.spent).to.equal(0);
        expect(b.body.budgets[0].delta.spent).to.equal(0);
      });
    });

    describe('raw queries cannot filter, sort or compute on columns the grant masks', () => {
      for (const [sql, construct] of RAW_REFUSED) {
        it(`${construct}: ${sql}`, async () => {
          const r = await call(svc, 'POST', '/v1/raw-queries', 'sam', { requestId: samGrant, sql });
          expect(r.status, r.text).to.equal(422);
          expect(r.body.error.code).to.equal('SQL_NOT_ALLOWED');
          expect(r.body.error.details.construct).to.equal(construct);
        });
      }
      it('consumed no quota, and masks every uncovered column of a permitted query', async () => {
        const r = await call(svc, 'POST', '/v1/raw-queries', 'sam', {
          requestId: samGrant,
          sql: 'SELECT ssn, zip, email, name, diagnosis, patient_id FROM patients JOIN visits USING (patient_id) WHERE diagnosis IS NOT NULL LIMIT 5',
        });
        expect(r.status, r.text).to.equal(200);
        expect(r.body.usage.queries).to.equal(1);
        expect(r.body.masked).to.deep.equal({
          'patients.ssn': 'partial',
          'patients.zip': 'generalize',
          'patients.email': 'tokenize',
          'patients.name': 'redact',
          'patients.patient_id': 'tokenize',
        });
        for (const row of r.body.rows as Json[]) {
          expect(row.ssn).to.match(/^\*\*\*-\*\*-\d{4}$/);
          expect(row.zip).to.match(/^\d{3}\*\*$/);
          expect(row.email).to.match(/^tok_[0-9a-f]{32}$/);
          expect(row.patient_id).to.match(/^tok_[0-9a-f]{32}$/);
          expect(row.name).to.equal(null);
          expect(typeof row.diagnosis).to.equal('string');
        }
        // Tokens of columns the grant does not cover stay sealed.
        const tokens = [...new Set((r.body.rows as Json[]).flatMap((x) => [x.email as string, x.patient_id as string]))];
        const rev = await call(svc, 'POST', '/v1/tokens/reveal', 'sam', { requestId: samGrant, tokens });
        expect(rev.status, rev.text).to.equal(200);
        expect(rev.body.values).to.deep.equal({});
        expect(rev.body.unrevealed).to.have.members(tokens);
      });
      it("another principal cannot use the grant, nor a principal without roles", async () => {
        for (const principal of ['alice', 'bob', 'carol', 'root']) {
          const r = await call(svc, 'POST', '/v1/raw-queries', principal, { requestId: samGrant, sql: 'SELECT region FROM visits LIMIT 1' });
          expect(r.status, `${principal}: ${r.text}`).to.equal(403);
        }
        const d = await call(svc, 'POST', '/v1/raw-queries', undefined, { requestId: samGrant, sql: 'SELECT region FROM visits LIMIT 1' }, 'dpq_demo_dashboard_key');
        expect(d.status, d.text).to.equal(403);
      });
    });

    describe('authentication', () => {
      const forged: readonly (readonly [string, () => string])[] = [
        ['alg none', () => `${b64('{"alg":"none","typ":"JWT"}')}.${b64('{"sub":"root"}')}.`],
        ['alg None', () => `${b64('{"alg":"None"}')}.${b64('{"sub":"root"}')}.`],
        ['HS256 with an empty key', () => hs256('', { alg: 'HS256', typ: 'JWT' }, { sub: 'root' })],
        ['HS256 with a guessed key', () => hs256('secret', { alg: 'HS256', typ: 'JWT' }, { sub: 'root' })],
        ['HS512 header', () => `${b64('{"alg":"HS512"}')}.${b64('{"sub":"root"}')}.AAAA`],
        ['RS256 header without JWKS', () => `${b64('{"alg":"RS256"}')}.${b64('{"sub":"root"}')}.AAAA`],
        ['header that is not JSON', () => `${b64('notjson')}.${b64('{"sub":"root"}')}.AAAA`],
        ['expired token', () => hs256(TEST_JWT_SECRET, { alg: 'HS256', typ: 'JWT' }, { sub: 'root', exp: Math.floor(Date.now() / 1000) - 3600 })],
        ['unknown principal', () => hs256(TEST_JWT_SECRET, { alg: 'HS256', typ: 'JWT' }, { sub: 'mallory' })],
        ['principal named __proto__', () => hs256(TEST_JWT_SECRET, { alg: 'HS256', typ: 'JWT' }, { sub: '__proto__' })],
        ['principal named constructor', () => hs256(TEST_JWT_SECRET, { alg: 'HS256', typ: 'JWT' }, { sub: 'constructor' })],
        ['no sub', () => hs256(TEST_JWT_SECRET, { alg: 'HS256', typ: 'JWT' }, { roles: ['admin'] })],
        ['wrong API key', () => 'dpq_demo_dashboard_kez'],
        ['principal name as API key', () => 'dash'],
      ];
      for (const [name, token] of forged) {
        it(`refuses ${name}`, async () => {
          const r = await call(svc, 'GET', '/v1/audit', undefined, undefined, token());
          expect(r.status, r.text).to.equal(401);
          expect(r.body.error.code).to.equal('UNAUTHENTICATED');
        });
      }
      it('refuses a valid token with its payload swapped', async () => {
        const [h, , s] = (await svc.token('alice')).split('.');
        const r = await call(svc, 'GET', '/v1/budget', undefined, undefined, `${h}.${b64('{"sub":"root","exp":9999999999}')}.${s}`);
        expect(r.status).to.equal(401);
      });
      it('refuses missing, non-Bearer and doubled credentials', async () => {
        const alice = await svc.token('alice');
        for (const authorization of [undefined, `Basic ${b64('alice:x')}`, alice, `Bearer ${alice}, Bearer ${alice}`, 'Bearer dpq_demo_dashboard_key junk']) {
          const res = await fetch(`${svc.url}/v1/budget`, { headers: authorization === undefined ? {} : { authorization } });
          expect(res.status, String(authorization)).to.equal(401);
        }
      });
      it('takes roles from the policy only: claims and headers add none', async () => {
        const t = hs256(TEST_JWT_SECRET, { alg: 'HS256', typ: 'JWT' }, { sub: 'alice', roles: ['auditor', 'admin'], exp: Math.floor(Date.now() / 1000) + 600 });
        const res = await fetch(`${svc.url}/v1/audit`, { headers: { authorization: `Bearer ${t}`, 'x-principal': 'carol', 'x-roles': 'auditor' } });
        expect(res.status).to.equal(403);
      });
    });

    describe('authorization', () => {
      const DENIED: readonly (readonly [string, string, string, unknown, number])[] = [
        ['alice', 'GET', '/v1/audit', undefined, 403],
        ['alice', 'GET', '/v1/audit/verify', undefined, 403],
        ['bob', 'POST', '/v1/queries', { sql: 'SELECT COUNT(*) FROM visits' }, 403],
        ['root', 'POST', '/v1/queries', { sql: 'SELECT COUNT(*) FROM visits' }, 403],
        ['bob', 'GET', '/v1/metrics/visits_by_region', undefined, 403],
        ['bob', 'POST', '/v1/access-requests', { kind: 'budget', dataset: 'clinic', epsilon: 1, justification: JUSTIFICATION }, 403],
        ['alice', 'POST', '/v1/access-requests', { kind: 'raw', dataset: 'clinic', columns: ['patients.ssn'], justification: JUSTIFICATION, breakGlass: true }, 403],
        ['alice', 'POST', '/v1/access-requests', { kind: 'budget', dataset: 'clinic', epsilon: 1, justification: JUSTIFICATION, breakGlass: true }, 400],
        ['alice', 'POST', '/v1/queries', { sql: 'SELECT COUNT(*) FROM visits', dataset: '__proto__' }, 404],
        ['alice', 'POST', '/v1/queries', { sql: 'SELECT COUNT(*) FROM visits', epsilon: 99 }, 400],
        ['alice', 'POST', '/v1/queries', { sql: 'SELECT COUNT(*) FROM visits', delta: 0.5 }, 400],
        ['alice', 'POST', '/v1/queries', '{"sql":"SELECT COUNT(*) FROM visits","__proto__":{"epsilon":0}}', 400],
        ['alice', 'POST', '/v1/queries', '{"sql":"SELECT COUNT(*) FROM visits","constructor":{"prototype":{"epsilon":0}}}', 400],
        ['alice', 'GET', '/v1/metrics/constructor', undefined, 404],
      ];
      for (const [principal, method, route, body, status] of DENIED) {
        it(`${principal} ${method} ${route} ${body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)} → ${status}`, async () => {
          const r = await call(svc, method, route, principal, body);
          expect(r.status, r.text).to.equal(status);
        });
      }
      it('the dashboard API key reads metrics and nothing else', async () => {
        const key = 'dpq_demo_dashboard_key';
        expect((await call(svc, 'POST', '/v1/queries', undefined, { sql: 'SELECT COUNT(*) FROM visits' }, key)).status).to.equal(403);
        expect((await call(svc, 'GET', '/v1/audit', undefined, undefined, key)).status).to.equal(403);
        expect((await call(svc, 'POST', '/v1/access-requests', undefined, { kind: 'budget', dataset: 'clinic', epsilon: 1, justification: JUSTIFICATION }, key)).status).to.equal(403);
      });
    });

    describe('the review workflow', () => {
      it('no self-approval, no double approval, no approval by the wrong role, no transition after a decision', async () => {
        const created = await call(svc, 'POST', '/v1/access-requests', 'alice', { kind: 'raw', dataset: 'clinic', columns: ['patients.email'], justification: JUSTIFICATION, durationMinutes: 60 });
        expect(created.status, created.text).to.equal(201);
        expect(created.body).to.deep.include({ status: 'pending', requiredApprovals: 2 });
        const id = created.body.id as string;
        const approve = (p: string): Promise<{ status: number; body: Json }> => call(svc, 'POST', `/v1/access-requests/${id}/approve`, p, {});

        expect((await approve('alice')).status).to.equal(403); // own request
        expect((await approve('sam')).status).to.equal(404); // cannot even see it
        expect((await approve('root')).status).to.equal(403); // admin is not an approver
        expect((await approve('bob')).status).to.equal(200);
        const twice = await approve('bob');
        expect(twice.status).to.equal(409);
        expect(twice.body.error.code).to.equal('CONFLICT');
        // One of two approvals: still not usable.
        const early = await call(svc, 'POST', '/v1/raw-queries', 'alice', { requestId: id, sql: 'SELECT email FROM patients LIMIT 1' });
        expect(early.status).to.equal(403);
        expect((await approve('carol')).body.status).to.equal('approved');
        expect((await approve('carol')).status).to.equal(409);
        expect((await call(svc, 'POST', `/v1/access-requests/${id}/deny`, 'bob', { reason: 'no' })).status).to.equal(409);
        // The requester can neither revoke (only cancel) nor have others cancel for it.
        expect((await call(svc, 'POST', `/v1/access-requests/${id}/revoke`, 'alice', { reason: 'no' })).status).to.equal(403);
        expect((await call(svc, 'POST', `/v1/access-requests/${id}/cancel`, 'sam', {})).status).to.equal(404);
        expect((await call(svc, 'POST', `/v1/access-requests/${id}/cancel`, 'bob', {})).status).to.equal(403);
        // Revoked: the next raw query is refused, and it cannot be approved back.
        expect((await call(svc, 'POST', `/v1/access-requests/${id}/revoke`, 'bob', { reason: 'test' })).body.status).to.equal('revoked');
        const after = await call(svc, 'POST', '/v1/raw-queries', 'alice', { requestId: id, sql: 'SELECT email FROM patients LIMIT 1' });
        expect(after.status).to.equal(403);
        expect((await approve('carol')).status).to.equal(409);
      });

      it('a budget top-up is approved once and adds its ε once', async () => {
        const created = await call(svc, 'POST', '/v1/access-requests', 'alice', { kind: 'budget', dataset: 'clinic', epsilon: 2, justification: JUSTIFICATION });
        expect(created.status, created.text).to.equal(201);
        const id = created.body.id as string;
        expect((await call(svc, 'POST', `/v1/access-requests/${id}/approve`, 'alice', {})).status).to.equal(403);
        const results = await Promise.all(['bob', 'carol'].map((p) => call(svc, 'POST', `/v1/access-requests/${id}/approve`, p, {})));
        expect(results.map((r) => r.status).sort()).to.deep.equal([200, 409]);
        const b = await call(svc, 'GET', '/v1/budget', 'alice');
        expect(b.body.budgets[0].epsilon.limit).to.equal(12);
        expect((await call(svc, 'POST', `/v1/access-requests/${id}/cancel`, 'alice', {})).status).to.equal(409);
        expect((await call(svc, 'POST', `/v1/access-requests/${id}/revoke`, 'bob', { reason: 'no' })).status).to.equal(409);
      });
    });

    describe('errors carry no database text or stack', () => {
      it('bad bodies and paths get stable codes and fixed messages', async () => {
        const alice = await svc.token('alice');
        const bad = await fetch(`${svc.url}/v1/queries`, { method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' }, body: '{"sql":' });
        expect(bad.status).to.equal(400);
        const big = await fetch(`${svc.url}/v1/queries`, { method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' }, body: JSON.stringify({ sql: 'a'.repeat(70_000) }) });
        expect(big.status).to.equal(413);
        const path = await call(svc, 'GET', '/v1/access-requests/..%2f..%2fetc', 'alice');
        expect(path.status).to.equal(400);
        for (const text of [await bad.text(), await big.text(), path.text]) expect(text).to.not.match(/at .*\.ts:\d+|node_modules|ERROR:|syntax error at or near/);
      });
    });
  });
}
