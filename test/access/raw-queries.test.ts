import { expect } from 'chai';
import { deriveMaskKeys, generalizeMask, hashOf, partialMask, tokenOf } from '../../src/access/masking.ts';
import { startService, type TestService } from '../support/service.ts';
import { auditEntries, expectCall, grant, type Json, rawQuery, STANDARD_EDITS, testPolicy } from './support.ts';

const TOKEN_KEY = '11'.repeat(32); // test/support/service.ts
const keys = deriveMaskKeys(Buffer.from(TOKEN_KEY, 'hex'));

describe('JIT access: raw queries, masking and tokens (pg)', function () {
  this.timeout(120_000);
  let svc: TestService;
  let truth: { patient_id: bigint; name: string; email: string; ssn: string; zip: string }[];
  let diagnoses: string[];
  before(async () => {
    svc = await startService('pg', { policy: testPolicy(STANDARD_EDITS).policy });
    truth = (await svc.runtime.warehouse.read('SELECT patient_id, name, email, ssn, zip FROM patients', [])).rows.map(([patient_id, name, email, ssn, zip]) => ({
      patient_id: patient_id as bigint,
      name: name as string,
      email: email as string,
      ssn: ssn as string,
      zip: zip as string,
    }));
    diagnoses = (await svc.runtime.warehouse.read('SELECT DISTINCT diagnosis FROM visits', [])).rows.map((r) => r[0] as string);
  });
  after(async () => svc?.stop());

  const cancel = (principal: string, id: string): Promise<Json> => expectCall(svc, 'POST', `/v1/access-requests/${id}/cancel`, principal, {}, 200);

  it('masks every column the grant does not cover by its mask: redact, tokenize, partial, generalize, hash; ids tokenized', async () => {
    const g = await grant(svc, 'alice', ['visits.cost']);
    const sql = `SELECT p.patient_id, p.name, p.email, p.ssn, p.zip, p.birth_year, v.diagnosis, v.cost, v.region
                 FROM patients p JOIN visits v ON p.patient_id = v.patient_id
                 WHERE v.region = 'north' AND v.cost IS NOT NULL ORDER BY v.visited_on, v.cost LIMIT 25`;
    const r = await rawQuery(svc, 'alice', g.id, sql);
    expect(r.columns).to.deep.equal(['patient_id', 'name', 'email', 'ssn', 'zip', 'birth_year', 'diagnosis', 'cost', 'region']);
    expect(r.masked).to.deep.equal({
      'patients.patient_id': 'tokenize',
      'patients.name': 'redact',
      'patients.email': 'tokenize',
      'patients.ssn': 'partial',
      'patients.zip': 'generalize',
      'visits.diagnosis': 'hash',
    });
    expect(r.rowCount).to.equal(25);
    expect(r.truncated).to.equal(false);
    expect(r.columnTypes).to.deep.equal({
      patient_id: 'text',
      name: 'text',
      email: 'text',
      ssn: 'text',
      zip: 'text',
      birth_year: 'integer',
      diagnosis: 'text',
      cost: 'numeric',
      region: 'text',
    });
    const idTokens = new Set(truth.map((t) => tokenOf(keys, 'clinic', 'patients.patient_id', String(t.patient_id))));
    const emailTokens = new Set(truth.map((t) => tokenOf(keys, 'clinic', 'patients.email', t.email)));
    const ssnMasks = new Set(truth.map((t) => partialMask(t.ssn, 4)));
    const zipMasks = new Set(truth.map((t) => generalizeMask(t.zip, 3)));
    const hashes = new Set(diagnoses.map((d) => hashOf(keys, 'clinic', 'visits.diagnosis', d)));
    for (const row of r.rows as Json[]) {
      expect(row.name).to.equal(null);
      expect(row.patient_id).to.match(/^tok_[0-9a-f]{32}$/);
      expect(idTokens.has(row.patient_id)).to.equal(true);
      expect(row.email).to.match(/^tok_[0-9a-f]{32}$/);
      expect(emailTokens.has(row.email)).to.equal(true);
      expect(row.ssn).to.match(/^\*\*\*-\*\*-\d{4}$/);
      expect(ssnMasks.has(row.ssn)).to.equal(true);
      expect(row.zip).to.match(/^\d{3}\*\*$/);
      expect(zipMasks.has(row.zip)).to.equal(true);
      expect(row.diagnosis).to.match(/^[0-9a-f]{64}$/);
      expect(hashes.has(row.diagnosis)).to.equal(true);
      expect(row.birth_year).to.be.a('number');
      // numeric(10,2) text such as "212.30" reads back exactly as the JSON number 212.3.
      expect(row.cost).to.be.a('number');
      expect(Math.round(row.cost * 100) / 100).to.equal(row.cost);
      expect(row.region).to.equal('north');
    }
    // The audit entry names columns and masks, counts rows, keeps the SQL without literals.
    const entry = (await auditEntries(svc)).filter((e) => e.action === 'access.raw_query' && e.requestId === g.id).at(-1)!;
    expect(entry.outcome).to.equal('answered');
    expect(entry.rowCount).to.equal(25);
    expect(entry.sqlRedacted).to.include('v.region = $1').and.not.include('north');
    expect(entry.details.masked['patients.ssn']).to.equal('partial');
    expect(entry.details.filterColumns).to.have.members(['visits.region', 'visits.cost']);
    const text = JSON.stringify(entry);
    for (const row of r.rows as Json[]) expect(text).not.to.include(String(row.ssn)).and.not.include(String(row.email));
    await cancel('alice', g.id);
  });

  it('gives the same token for the same value in every query (joined unit columns share tokens), and reveals only under a covering grant', async () => {
    const g = await grant(svc, 'alice', ['visits.cost']);
    const a = await rawQuery(svc, 'alice', g.id, 'SELECT patient_id, email, birth_year FROM patients WHERE birth_year BETWEEN 1950 AND 1951 ORDER BY birth_year LIMIT 40');
    const b = await rawQuery(svc, 'alice', g.id, 'SELECT email, patient_id FROM patients WHERE birth_year IN (1950, 1951) LIMIT 40');
    const byId = (rows: Json[]): Map<string, string> => new Map(rows.map((x) => [x.patient_id as string, x.email as string]));
    const ma = byId(a.rows);
    const mb = byId(b.rows);
    expect(ma.size).to.be.greaterThan(5);
    for (const [id, email] of mb) if (ma.has(id)) expect(ma.get(id)).to.equal(email);
    expect([...mb.keys()].filter((k) => ma.has(k)).length).to.be.greaterThan(5);
    // visits.patient_id tokens equal patients.patient_id tokens: join by token.
    const some = [...ma.keys()].slice(0, 5);
    const v = await rawQuery(svc, 'alice', g.id, 'SELECT patient_id, cost FROM visits WHERE cost > 0 LIMIT 1000');
    const visitIds = new Set((v.rows as Json[]).map((x) => x.patient_id as string));
    const patientIds = new Set((await rawQuery(svc, 'alice', g.id, 'SELECT patient_id FROM patients LIMIT 1000')).rows.map((x: Json) => x.patient_id as string));
    expect([...visitIds].filter((t) => patientIds.has(t)).length).to.be.greaterThan(0);

    // The grant covers visits.cost only: emails and ids stay hidden.
    const emailTokens = [...ma.values()].slice(0, 5);
    const none = await expectCall(svc, 'POST', '/v1/tokens/reveal', 'alice', { requestId: g.id, tokens: [...emailTokens, ...some] }, 200);
    expect(none.values).to.deep.equal({});
    expect(none.unrevealed).to.have.members([...emailTokens, ...some]);
    // Hashes are not tokens at all.
    await expectCall(svc, 'POST', '/v1/tokens/reveal', 'alice', { requestId: g.id, tokens: ['0'.repeat(64)] }, 400, 'INVALID_REQUEST');
    await cancel('alice', g.id);

    // Under a grant covering patients.email, the email tokens reveal; the id tokens still do not.
    const e = await grant(svc, 'alice', ['patients.email']);
    const revealed = await expectCall(svc, 'POST', '/v1/tokens/reveal', 'alice', { requestId: e.id, tokens: [...emailTokens, some[0]] }, 200);
    expect(Object.keys(revealed.values)).to.have.members(emailTokens);
    expect(revealed.unrevealed).to.deep.equal([some[0]]);
    const realEmails = new Set(truth.map((t) => t.email));
    for (const value of Object.values(revealed.values)) expect(realEmails.has(value as string)).to.equal(true);
    // Under that grant the email comes back in clear, equal to what the token revealed.
    const clear = await rawQuery(svc, 'alice', e.id, 'SELECT email FROM patients WHERE birth_year BETWEEN 1950 AND 1951 LIMIT 40');
    expect(clear.masked).to.not.have.property('patients.email');
    const clearEmails = new Set((clear.rows as Json[]).map((x) => x.email));
    for (const value of Object.values(revealed.values)) expect(clearEmails.has(value)).to.equal(true);
    // Someone else cannot use the grant to reveal; and once cancelled, neither can alice.
    await expectCall(svc, 'POST', '/v1/tokens/reveal', 'sam', { requestId: e.id, tokens: emailTokens }, 403, 'FORBIDDEN');
    await cancel('alice', e.id);
    await expectCall(svc, 'POST', '/v1/tokens/reveal', 'alice', { requestId: e.id, tokens: emailTokens }, 403, 'FORBIDDEN');
    const reveal = (await auditEntries(svc)).filter((x) => x.action === 'access.reveal' && x.requestId === e.id);
    expect(reveal.map((x) => x.outcome)).to.deep.equal(['answered', 'refused']);
    expect(reveal[0]!.rowCount).to.equal(5);
    expect(reveal[0]!.details).to.deep.include({ tokens: 6, revealed: 5, columns: ['patients.email'] });
    expect(JSON.stringify(reveal)).not.to.include(emailTokens[0]);
  });

  it('refuses WHERE and ORDER BY on a column the caller does not see in clear', async () => {
    const g = await grant(svc, 'alice', ['visits.cost']);
    const before = (await expectCall(svc, 'GET', `/v1/access-requests/${g.id}`, 'alice', undefined, 200)).usage.queries;
    for (const [sql, construct] of [
      ["SELECT zip FROM patients WHERE ssn LIKE '123%'", 'column ssn'],
      ["SELECT zip FROM patients WHERE zip = '94110'", 'column zip'],
      ['SELECT zip FROM patients WHERE patient_id = 42', 'column patient_id'],
      ['SELECT zip FROM patients WHERE email IS NULL', 'column email'],
      ["SELECT cost FROM visits WHERE NOT (diagnosis IN ('I10', 'R51'))", 'column diagnosis'],
      ['SELECT zip FROM patients ORDER BY ssn', 'column ssn'],
      ['SELECT zip AS z FROM patients ORDER BY z', 'column zip'],
      ['SELECT birth_year, zip FROM patients ORDER BY 2', 'column zip'],
    ] as const) {
      const r = await rawQuery(svc, 'alice', g.id, sql, 422, 'SQL_NOT_ALLOWED');
      expect(r.error.details.construct, sql).to.equal(construct);
      expect(r.error.message).to.match(/masked under this grant/);
      expect(r.error.details.hint).to.match(/in clear/);
    }
    // Clear columns are fine, including the granted one.
    await rawQuery(svc, 'alice', g.id, "SELECT zip FROM patients WHERE birth_year > 1990 AND sex = 'F' ORDER BY birth_year DESC NULLS LAST LIMIT 3");
    await rawQuery(svc, 'alice', g.id, 'SELECT diagnosis FROM visits WHERE cost BETWEEN 10 AND 20.5 ORDER BY cost LIMIT 3');
    const after = (await expectCall(svc, 'GET', `/v1/access-requests/${g.id}`, 'alice', undefined, 200)).usage.queries;
    expect(after).to.equal(before + 2);
    await cancel('alice', g.id);
  });

  it('refuses hostile SQL without touching the warehouse or the quota', async () => {
    const g = await grant(svc, 'alice', ['visits.cost']);
    const cases: [string, number, string][] = [
      ['SELECT zip FROM patients; DROP TABLE patients', 422, 'multiple statements'],
      ['SELECT * FROM patients', 422, 'SELECT *'],
      ['SELECT p.* FROM patients p', 422, 'SELECT *'],
      ['SELECT upper(zip) FROM patients', 422, 'function upper'],
      ['SELECT pg_sleep(10) FROM patients', 422, 'function pg_sleep'],
      ['SELECT zip FROM patients WHERE birth_year > 1990 OR pg_sleep(5) IS NULL', 422, 'function pg_sleep'],
      ['SELECT zip FROM patients WHERE birth_year IN (SELECT birth_year FROM patients)', 422, 'subquery'],
      ['SELECT zip FROM (SELECT zip FROM patients) s', 422, 'subquery'],
      ['SELECT usename FROM pg_catalog.pg_user', 422, 'table pg_catalog.pg_user'],
      ['SELECT usename FROM pg_user', 422, 'table pg_user'],
      ['SELECT entry FROM dpq.audit_log', 422, 'table dpq.audit_log'],
      ['SELECT zip FROM patients UNION SELECT diagnosis FROM visits', 422, 'UNION'],
      ['WITH x AS (SELECT zip FROM patients) SELECT zip FROM x', 422, 'WITH'],
      ["SELECT zip FROM patients WHERE birth_year = '1990'::int", 422, 'cast'],
      ['SELECT zip FROM patients WHERE birth_year = $1', 422, 'parameter'],
      ['SELECT zip FROM patients p CROSS JOIN visits v', 422, 'join'],
      ['SELECT zip FROM patients LEFT JOIN visits USING (patient_id)', 422, 'join'],
      ['SELECT DISTINCT zip FROM patients', 422, 'DISTINCT'],
      ['SELECT sex, count(*) FROM patients GROUP BY sex', 422, 'GROUP BY'],
      ['SELECT count(*) FROM patients', 422, 'function count'],
      ['SELECT zip FROM patients FOR UPDATE', 422, 'locking clause'],
      ['DELETE FROM patients', 422, 'DELETE'],
      ['SELECT birth_year + 1 FROM patients', 422, 'operator +'],
      ["SELECT zip FROM patients WHERE birth_year > 'abc'", 422, 'literal'],
      ['SELECT zip, zip FROM patients', 422, 'column zip'],
      ["SELECT set_config('role', 'postgres', false)", 422, 'SELECT without FROM'],
      // A pattern ending in the escape character fails only when a row matches: a data-dependent error.
      ["SELECT zip FROM patients WHERE sex LIKE 'F\\'", 422, 'LIKE pattern'],
      ["SELECT zip FROM patients WHERE sex LIKE '%a%b%c%d%e'", 422, 'LIKE pattern'],
    ];
    for (const [sql, status, construct] of cases) {
      const r = await rawQuery(svc, 'alice', g.id, sql, status, 'SQL_NOT_ALLOWED');
      expect(r.error.details.construct, sql).to.equal(construct);
      expect(r.error.details.position, sql).to.be.a('number');
      expect(r.error.details.hint, sql).to.be.a('string').and.not.empty;
    }
    const syntax = await rawQuery(svc, 'alice', g.id, 'SELEC zip FROM patients', 400, 'SQL_SYNTAX');
    expect(syntax.error.details.position).to.equal(0);
    const now = await expectCall(svc, 'GET', `/v1/access-requests/${g.id}`, 'alice', undefined, 200);
    expect(now.usage.queries).to.equal(0);
    const refused = (await auditEntries(svc)).filter((e) => e.action === 'access.raw_query' && e.requestId === g.id);
    expect(refused).to.have.length(cases.length + 1);
    expect(refused.every((e) => e.outcome === 'refused')).to.equal(true);
    expect(JSON.stringify(refused)).not.to.include('postgres').and.not.include("'abc'");
    await cancel('alice', g.id);
  });
});

describe('JIT access: raw-query quotas (pg)', function () {
  this.timeout(120_000);
  let svc: TestService;
  before(async () => {
    const { policy } = testPolicy([
      ...STANDARD_EDITS,
      ['access.yaml', /maxRowsPerQuery: 1000\n\s*maxQueriesPerGrant: 100\n\s*maxRowsPerGrant: 20000/, 'maxRowsPerQuery: 5\n    maxQueriesPerGrant: 4\n    maxRowsPerGrant: 12'],
    ]);
    svc = await startService('pg', { policy });
  });
  after(async () => svc?.stop());

  it('truncates at maxRowsPerQuery and refuses with QUOTA_EXCEEDED once the grant\'s rows are used up', async () => {
    const g = await grant(svc, 'alice', ['visits.cost']);
    const sql = 'SELECT cost FROM visits WHERE cost IS NOT NULL';
    const one = await rawQuery(svc, 'alice', g.id, sql);
    expect(one).to.include({ rowCount: 5, truncated: true });
    const small = await rawQuery(svc, 'alice', g.id, `${sql} LIMIT 2`);
    expect(small).to.include({ rowCount: 2, truncated: false });
    const three = await rawQuery(svc, 'alice', g.id, sql);
    expect(three).to.include({ rowCount: 5, truncated: true });
    expect(three.usage).to.deep.include({ queries: 3, rows: 12 });
    const out = await rawQuery(svc, 'alice', g.id, sql, 403, 'QUOTA_EXCEEDED');
    expect(out.error.details).to.deep.include({ quota: 'rows', limit: 12 });
    await expectCall(svc, 'POST', `/v1/access-requests/${g.id}/cancel`, 'alice', {}, 200);
  });

  it('refuses the query after maxQueriesPerGrant', async () => {
    const g = await grant(svc, 'alice', ['visits.cost']);
    for (let i = 0; i < 4; i++) await rawQuery(svc, 'alice', g.id, 'SELECT cost FROM visits LIMIT 1');
    const r = await rawQuery(svc, 'alice', g.id, 'SELECT cost FROM visits LIMIT 1', 403, 'QUOTA_EXCEEDED');
    expect(r.error.details).to.deep.include({ quota: 'queries', limit: 4 });
    await expectCall(svc, 'POST', `/v1/access-requests/${g.id}/cancel`, 'alice', {}, 200);
  });

  it('never passes a quota under concurrent queries', async () => {
    const g = await grant(svc, 'alice', ['visits.cost']);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => svc.request('POST', '/v1/raw-queries', { principal: 'alice', body: { requestId: g.id, sql: 'SELECT cost FROM visits' } })),
    );
    const bodies = (await Promise.all(results.map((r) => r.json()))) as Json[];
    const rows = bodies.filter((b) => b.rowCount !== undefined).reduce((n, b) => n + (b.rowCount as number), 0);
    const answered = results.filter((r) => r.status === 200).length;
    expect(rows).to.equal(12);
    expect(answered).to.be.at.most(4);
    expect(results.filter((r) => r.status !== 200).every((r) => r.status === 403)).to.equal(true);
    await expectCall(svc, 'POST', `/v1/access-requests/${g.id}/cancel`, 'alice', {}, 200);
  });
});
