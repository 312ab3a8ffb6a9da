/**
 * Fuzzing the HTTP API (fast-check): random methods, paths (with hostile percent-encoding and
 * query strings), principals, content types and bodies — from JSON shaped like each endpoint's
 * to bytes that are no JSON at all, with SQL assembled from fragments that are known to be
 * awkward. Every answer must be a documented one: never 500, and every error the JSON error body
 * with a code and status of docs/errors.md.
 *
 * Bounded (a run count, and a time limit after which it stops early without failing) and seeded:
 * the seed is printed; `DPQ_FUZZ_SEED=<seed>` replays a run.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { createRequest, grant, rawBody, STANDARD_EDITS, testPolicy } from '../access/support.ts';
import { BACKENDS, startService, type TestService } from '../support/service.ts';

const DOCUMENTED = new Map(
  [...fs.readFileSync(path.resolve('docs/errors.md'), 'utf8').matchAll(/^\|\s*(\d{3})\s*\|\s*`([A-Z_]+)`\s*\|/gm)].map((m) => [m[2]!, Number(m[1])]),
);
const RUNS = 2_000;
const TIME_LIMIT_MS = 90_000;

const SQL_FRAGMENTS = [
  'SELECT', 'COUNT(*)', 'COUNT(DISTINCT patient_id)', 'SUM(cost)', 'AVG(cost)', 'percentile_cont(0.5) WITHIN GROUP (ORDER BY cost)',
  'region', 'cost', 'visited_on', 'diagnosis', 'notes', 'patient_id', 'email', 'zip', 'birth_year', 'ssn',
  'FROM', 'visits', 'patients', 'pg_user', 'dpq.audit_log', 'v', 'p', 'JOIN', 'ON', 'USING (patient_id)', 'v.patient_id = p.patient_id',
  'WHERE', 'NOT', 'AND', 'OR', '=', '<>', '<', '>=', 'BETWEEN', 'IN', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL', '(', ')', ',', ';',
  "'north'", "'%a%'", "'2020-01-01'", "'\\'", "E'\\x00'", "U&'\\0041'", '$$x$$', "'", '"', '""', '0', '-1', '1e308', '9223372036854775808', '0.5', 'NaN',
  '$1', '::int', '::text', 'true', 'NULL', 'GROUP BY', 'HAVING', 'ORDER BY', 'LIMIT', 'OFFSET', 'DESC', 'AS', 'DISTINCT', '*',
  'UNION', 'WITH', 'DROP TABLE visits', 'PREPARE p AS', 'EXPLAIN', 'COPY', 'pg_sleep(1)', '/*', '*/', '--', '\n', '\u0000', 'é', '😀', '\u202e',
];

const column = fc.constantFrom('region', 'cost', 'visited_on', 'diagnosis', 'notes', 'patient_id', 'v.cost', 'x');
const literal = fc.oneof(
  fc.constantFrom("'north'", "'2020-01-01'", "'2020-13-45'", "'abc'", "''", "'1e5'", "'NaN'", "'Infinity'", '0', '-0', '1.005', '99999999999999999999', '-1e400', 'NULL', 'true', "'\\'", "'%'"),
  fc.integer().map(String),
  fc.double({ noNaN: true }).map((d) => (Object.is(d, -0) ? '-0.0' : String(d))),
  fc.string({ maxLength: 8 }).map((t) => `'${t.replaceAll("'", "''")}'`),
);
const condition: fc.Arbitrary<string> = fc.letrec<{ cond: string }>((tie) => ({
  cond: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(column, fc.constantFrom('=', '<>', '<', '>=', '!=', 'LIKE', 'ILIKE', 'NOT LIKE'), literal).map(([c, o, l]) => `${c} ${o} ${l}`),
    fc.tuple(column, fc.array(literal, { minLength: 1, maxLength: 4 })).map(([c, ls]) => `${c} IN (${ls.join(', ')})`),
    fc.tuple(column, literal, literal).map(([c, a, b]) => `${c} BETWEEN ${a} AND ${b}`),
    column.map((c) => `${c} IS NOT NULL`),
    fc.tuple(tie('cond'), fc.constantFrom('AND', 'OR'), tie('cond')).map(([a, o, b]) => `(${a} ${o} ${b})`),
    tie('cond').map((c) => `NOT ${c}`),
  ),
})).cond;
const aggregates = fc.array(fc.constantFrom('COUNT(*)', 'SUM(cost)', 'AVG(cost)', 'COUNT(DISTINCT patient_id)', 'percentile_cont(0.5) WITHIN GROUP (ORDER BY cost)', 'MEDIAN(cost)', 'VAR_POP(cost)', 'COUNT(notes)', 'SUM(region)'), { minLength: 1, maxLength: 3 });
const structured = fc
  .tuple(fc.boolean(), aggregates, fc.option(condition), fc.constantFrom('', ' LIMIT 2', ' ORDER BY 1', ' HAVING COUNT(*) > 5'))
  .map(([grouped, aggs, where, tail]) => `SELECT ${grouped ? 'region, ' : ''}${aggs.join(', ')} FROM visits${where === null ? '' : ` WHERE ${where}`}${grouped ? ' GROUP BY region' : ''}${tail}`);

const sqlText = fc.oneof(
  { weight: 3, arbitrary: structured },
  fc.array(fc.constantFrom(...SQL_FRAGMENTS), { maxLength: 30 }).map((parts) => parts.join(' ')),
  fc.tuple(fc.constantFrom('SELECT COUNT(*) FROM visits WHERE ', 'SELECT region, COUNT(*) FROM visits GROUP BY region HAVING ', 'SELECT zip FROM patients WHERE '), fc.array(fc.constantFrom(...SQL_FRAGMENTS), { maxLength: 20 })).map(([head, tail]) => head + tail.join(' ')),
  fc.integer({ min: 0, max: 200 }).map((n) => `SELECT COUNT(*) FROM visits WHERE ${'NOT '.repeat(n)}region = 'north'`),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

/** A value for a field: usually plausible, sometimes any JSON at all. */
const field = <T>(plausible: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 12, arbitrary: plausible }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });

const number = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0.1, 0.5, 1, 1e-7, 0.95) },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 2, noNaN: true }) },
  fc.double(),
  fc.constantFrom(0, -1, 1e-300, 1e300, 2, 60, 1e9),
  fc.integer(),
);

function bodyKinds(ids: readonly string[]) {
  const id = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ids) }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) });
  const query = fc.record(
    { sql: field(sqlText), dataset: field(fc.constantFrom('clinic', 'nope', '')), epsilon: field(number), delta: field(number), mechanism: field(fc.constantFrom('laplace', 'gaussian', 'x')), confidence: field(number) },
    { requiredKeys: ['sql'] },
  );
  const access = fc.record(
    {
      kind: field(fc.constantFrom('raw', 'budget', 'x')),
      dataset: field(fc.constantFrom('clinic', 'nope')),
      columns: field(fc.array(fc.constantFrom('patients.zip', 'patients.ssn', 'visits.cost', 'x.y', '', 'patients.*'), { maxLength: 4 })),
      justification: field(fc.string({ maxLength: 120 })),
      ticket: field(fc.string({ maxLength: 20 })),
      durationMinutes: field(number),
      epsilon: field(number),
    },
    { requiredKeys: [] },
  );
  const raw = fc.record({ requestId: field(id), sql: field(sqlText) }, { requiredKeys: ['sql'] });
  const reveal = fc.record({ requestId: field(id), tokens: field(fc.array(fc.string({ maxLength: 30 }), { maxLength: 3 })) }, { requiredKeys: [] });
  const comment = fc.record({ comment: field(fc.string({ unit: 'binary', maxLength: 50 })), reason: field(fc.string({ unit: 'binary', maxLength: 50 })) }, { requiredKeys: [] });
  return { query, access, raw, reveal, comment, any: fc.oneof(query, access, raw, reveal, comment, fc.jsonValue({ maxDepth: 4 })) };
}

/** A path segment: plausible ids and names, or percent-encoding that does not decode. */
function segment(ids: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...ids, 'visits_by_region', 'clinic', '%ff', '%', '%E0%A4%A', '%00', '%2e%2e', '..', 'a%20b', '%C0%AF', '%ED%A0%80'),
    fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
    fc.stringMatching(/^[%0-9a-fA-FzZ]{1,9}$/),
  );
}

function paths(ids: readonly string[]): fc.Arbitrary<string> {
  const seg = segment(ids);
  const query = fc.array(fc.tuple(fc.constantFrom('after', 'limit', 'actor', 'action', 'dataset', 'outcome', 'from', 'to', 'status', 'kind', 'x'), fc.oneof(fc.string({ maxLength: 20 }).map(encodeURIComponent), seg, fc.constantFrom('-1', '1e9', '2026-13-45', 'NaN'))), { maxLength: 4 })
    .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`));
  const route = fc.oneof(
    fc.constantFrom('/v1/queries', '/v1/queries/estimate', '/v1/raw-queries', '/v1/tokens/reveal', '/v1/access-requests', '/v1/datasets', '/v1/budget', '/v1/audit', '/v1/audit/verify', '/v1/metrics', '/healthz', '/readyz', '/', '/demo/tokens', '/v1', '/v1/'),
    seg.map((s) => `/v1/access-requests/${s}`),
    fc.tuple(seg, fc.constantFrom('approve', 'deny', 'revoke', 'cancel', 'x')).map(([s, a]) => `/v1/access-requests/${s}/${a}`),
    seg.map((s) => `/v1/metrics/${s}`),
    seg.map((s) => `/v1/metrics/${s}/history`),
    fc.array(seg, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`),
  );
  return fc.tuple(route, query).map(([r, q]) => r + q);
}

/** [method, path, body] aimed at one endpoint at a time, so that requests get past routing and validation. */
function aimed(ids: readonly string[], others: readonly string[]): fc.Arbitrary<[string, string, unknown]> {
  const b = bodyKinds(ids);
  const seg = segment(others);
  const post = (route: fc.Arbitrary<string>, body: fc.Arbitrary<unknown>): fc.Arbitrary<[string, string, unknown]> => fc.tuple(fc.constant('POST'), route, body);
  const get = (route: fc.Arbitrary<string>): fc.Arbitrary<[string, string, unknown]> => fc.tuple(fc.constant('GET'), route, fc.constant(undefined));
  const plainQuery = fc.record({ sql: structured, epsilon: fc.constantFrom(0.01, 0.1) });
  return fc.oneof(
    { weight: 4, arbitrary: post(fc.constantFrom('/v1/queries', '/v1/queries/estimate'), plainQuery) },
    { weight: 4, arbitrary: post(fc.constantFrom('/v1/queries', '/v1/queries/estimate'), b.query) },
    { weight: 3, arbitrary: post(fc.constant('/v1/raw-queries'), b.raw) },
    { weight: 2, arbitrary: post(fc.constant('/v1/access-requests'), b.access) },
    { weight: 1, arbitrary: post(fc.constant('/v1/tokens/reveal'), b.reveal) },
    { weight: 1, arbitrary: post(fc.tuple(fc.oneof(fc.constantFrom(...others), seg), fc.constantFrom('approve', 'deny', 'revoke', 'cancel')).map(([i, a]) => `/v1/access-requests/${i}/${a}`), b.comment) },
    { weight: 2, arbitrary: get(paths(others)) },
  );
}

interface Answer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: string;
}

function send(url: string, method: string, route: string, headers: Record<string, string>, body: string | undefined): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // An explicit length: Node's client sends a DELETE or OPTIONS body unframed otherwise.
    const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const req = http.request({ host: hostname, port, method, path: route, headers: { ...headers, ...length, connection: 'close' } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The answer is a documented one: no 500, and an error is the JSON error body with its documented status. */
function checkAnswer(method: string, answer: Answer): void {
  expect(answer.status).to.not.equal(500);
  if (answer.status < 400) return;
  expect([...DOCUMENTED.values()]).to.include(answer.status);
  if (method === 'HEAD') return;
  expect(answer.contentType).to.match(/^application\/json/);
  const parsed = JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } };
  const code = String(parsed.error?.code);
  expect(DOCUMENTED.has(code), `undocumented code ${code}`).to.equal(true);
  expect(DOCUMENTED.get(code)).to.equal(answer.status);
  expect(parsed.error?.message).to.be.a('string');
  expect(answer.body).to.not.match(/\n\s+at |node_modules|SQLSTATE|syntax error at or near/);
}

for (const backend of BACKENDS) {
  describe(`HTTP fuzz (${backend})`, function () {
    this.timeout(TIME_LIMIT_MS + 120_000);
    let svc: TestService;
    let ids: string[]; // the raw grant queries use
    let others: string[]; // requests the fuzzer may approve, deny, revoke or cancel
    before(async () => {
      svc = await startService(backend, { policy: testPolicy(STANDARD_EDITS).policy, env: { DPQ_RATE_LIMIT: '0' } });
      ids = [String((await grant(svc, 'alice', ['patients.zip'])).id)];
      others = [String((await grant(svc, 'sam', ['visits.cost'])).id), String((await createRequest(svc, 'root', rawBody(['patients.ssn']))).id)];
    });
    after(async () => svc?.stop());

    it('answers random requests only with documented statuses and codes, never 500', async () => {
      const seed = process.env.DPQ_FUZZ_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.DPQ_FUZZ_SEED);
      console.log(`      fuzz seed ${seed} (replay: DPQ_FUZZ_SEED=${seed})`);
      const tokens = new Map<string, string>();
      for (const p of ['alice', 'sam', 'bob', 'carol', 'root', 'dash']) tokens.set(p, await svc.token(p));
      const auth = fc.oneof({ weight: 10, arbitrary: fc.constant(`Bearer ${tokens.get('alice')!}`) }, { weight: 8, arbitrary: fc.constantFrom(...tokens.values()).map((t) => `Bearer ${t}`) }, fc.constantFrom('', 'Bearer', 'Bearer x.y.z', 'Basic abc', 'Bearer dpq_demo_dashboard_key'), fc.string({ maxLength: 30 }).map((s) => `Bearer ${encodeURIComponent(s)}`));
      const request = fc.record({
        method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
        aimed: fc.option(aimed(ids, others), { freq: 4 }),
        route: paths(others), // never the raw grant's id: a random POST …/cancel would end it
        authorization: auth,
        contentType: fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') }, fc.constantFrom('application/json; charset=utf-8', 'text/plain', 'application/json; charset=latin1', 'application/x-www-form-urlencoded', '')),
        body: fc.oneof({ weight: 5, arbitrary: bodyKinds(ids).any.map((b) => JSON.stringify(b)) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) }, { weight: 1, arbitrary: fc.constant(undefined) }),
      });
      const seen = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const headers: Record<string, string> = { authorization: r.authorization };
          if (r.contentType !== '') headers['content-type'] = r.contentType;
          // null: a fully random request; otherwise one aimed at an endpoint, with a JSON body.
          const [method, route, payload] = r.aimed ?? [r.method, r.route, r.body];
          const raw = r.aimed === null ? (payload as string | undefined) : payload === undefined ? undefined : JSON.stringify(payload);
          const body = method === 'GET' || method === 'HEAD' ? undefined : raw;
          const answer = await send(svc.url, method, route, headers, body);
          const key = `${answer.status} ${/"code":"([A-Z_]+)"/.exec(answer.body)?.[1] ?? ''}`.trim();
          seen.set(key, (seen.get(key) ?? 0) + 1);
          checkAnswer(method, answer);
        }),
        { seed, numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
      );
      console.log(`      answers: ${[...seen].sort().map(([k, n]) => `${k} ×${n}`).join(', ')}`);
      expect((await svc.request('GET', '/healthz')).status).to.equal(200);
    });
  });
}
