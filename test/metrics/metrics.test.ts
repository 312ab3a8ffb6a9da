import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import pg from 'pg';
import { ManualClock } from '../../src/clock.ts';
import { policyDir } from '../support/policy.ts';
import { BACKENDS, spawnServer, startService, type ServerProcess, type TestService } from '../support/service.ts';

const DASH_KEY = 'dpq_demo_dashboard_key';
const HOUR = 3_600_000;

interface MetricBody {
  name: string;
  id: string;
  releasedAt: string;
  nextReleaseAt: string | null;
  stale: boolean;
  columns: string[];
  rows: { region: string; visits: number }[];
  privacy: { epsilon: number };
}

async function releaseCount(url: string): Promise<{ releases: number; events: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ releases: string; events: string }>(
      `SELECT (SELECT count(*) FROM dpq.metric_releases)::text AS releases,
              (SELECT count(*) FROM dpq.budget_events WHERE kind = 'metric')::text AS events`,
    );
    return { releases: Number(r.rows[0]!.releases), events: Number(r.rows[0]!.events) };
  } finally {
    await c.end();
  }
}

for (const backend of BACKENDS) {
  describe(`noisy metrics (${backend})`, function () {
    this.timeout(120_000);
    let svc: TestService;
    let clock: ManualClock;
    beforeEach(async () => {
      clock = new ManualClock(Date.UTC(2026, 10, 23, 9, 0, 0));
      // Metric budget 0.25 at ε 0.1 per release: two releases, then stale.
      const dir = policyDir({ 'clinic.yaml': (t) => t.replace('budget: { epsilon: 10 }           # all releases', 'budget: { epsilon: 0.25 }').replace('budget: { epsilon: 10 }', 'budget: { epsilon: 0.25 }') });
      svc = await startService(backend, { clock, env: { DPQ_POLICY_DIR: dir } });
    });
    afterEach(async () => svc?.stop());

    const read = (path = '/v1/metrics/visits_by_region', headers: Record<string, string> = {}): Promise<Response> => svc.request('GET', path, { token: DASH_KEY, headers });

    it('serves 500 reads in one period from one release and one charge', async () => {
      const first = (await (await read()).json()) as MetricBody;
      expect(first.rows.map((r) => r.region)).to.deep.equal(['north', 'south', 'east', 'west']);
      expect(first.stale).to.equal(false);
      expect(first.privacy.epsilon).to.equal(0.1);
      expect(new Date(first.nextReleaseAt!).getTime() - new Date(first.releasedAt).getTime()).to.equal(HOUR);
      for (let i = 0; i < 499; i++) {
        const again = (await (await read()).json()) as MetricBody;
        expect(again.id).to.equal(first.id);
      }
      const list = (await (await read('/v1/metrics')).json()) as { metrics: { name: string; budget: { epsilon: { spent: number } } }[] };
      expect(list.metrics[0]!.budget.epsilon.spent).to.equal(0.1);
      const metrics = await (await svc.request('GET', '/metrics')).text();
      expect(metrics).to.match(/dpq_metric_releases_total\{metric="visits_by_region"\} 1\n/);
      expect(metrics).to.match(/dpq_metric_reads_total\{metric="visits_by_region"\} 500\n/);
    });

    it('releases again after the refresh period, keeps history newest first, and turns stale when the budget is spent', async () => {
      const ids: string[] = [];
      for (let period = 0; period < 2; period++) {
        ids.push(((await (await read()).json()) as MetricBody).id);
        clock.advance(HOUR + 1);
      }
      expect(new Set(ids).size).to.equal(2);
      const stale = (await (await read()).json()) as MetricBody;
      expect(stale.stale).to.equal(true);
      expect(stale.id).to.equal(ids[1]);
      expect(stale.nextReleaseAt).to.equal(null);
      clock.advance(HOUR + 1);
      expect(((await (await read()).json()) as MetricBody).stale).to.equal(true);
      const history = (await (await read('/v1/metrics/visits_by_region/history?limit=10')).json()) as { releases: MetricBody[] };
      expect(history.releases.map((r) => r.id)).to.deep.equal([ids[1], ids[0]]);
      const list = (await (await read('/v1/metrics')).json()) as { metrics: { budget: { epsilon: { spent: number; remaining: number } } }[] };
      expect(list.metrics[0]!.budget.epsilon).to.deep.include({ spent: 0.2, remaining: 0.05 });
      const metrics = await (await svc.request('GET', '/metrics')).text();
      expect(metrics).to.match(/dpq_metric_stale_serves_total\{metric="visits_by_region"\} 2\n/);
    });

    it('sends ETag and Cache-Control up to the next release, and 304 on a matching If-None-Match', async () => {
      const res = await read();
      const etag = res.headers.get('etag')!;
      expect(res.headers.get('cache-control')).to.equal('private, max-age=3600');
      clock.advance(600_000);
      const again = await read('/v1/metrics/visits_by_region', { 'if-none-match': etag });
      expect(again.status).to.equal(304);
      expect(again.headers.get('cache-control')).to.equal('private, max-age=3000');
    });

    it('refuses a principal without a reader role (403) and an unknown metric (404)', async () => {
      expect((await svc.request('GET', '/v1/metrics/visits_by_region', { principal: 'bob' })).status).to.equal(403);
      expect((await svc.request('GET', '/v1/metrics/visits_by_region', { principal: 'alice' })).status).to.equal(200);
      expect((await read('/v1/metrics/nope')).status).to.equal(404);
      const list = (await (await svc.request('GET', '/v1/metrics', { principal: 'bob' })).json()) as { metrics: unknown[] };
      expect(list.metrics).to.deep.equal([]);
    });

    it('audits each release, not each read', async () => {
      for (let i = 0; i < 5; i++) await read();
      const log = (await (await svc.request('GET', '/v1/audit', { principal: 'carol' })).json()) as { entries: { action: string; outcome: string; actor: string }[] };
      expect(log.entries.map((e) => `${e.action}:${e.outcome}`)).to.deep.equal(['metric.release:ok', 'metric.release:answered']);
      expect(log.entries[0]!.actor).to.equal('dash');
    });
  });
}

describe('noisy metrics across replicas (pg)', function () {
  this.timeout(120_000);
  let svc: TestService;
  let second: ServerProcess;
  before(async () => {
    svc = await startService('pg');
    second = await spawnServer({ ...svc.env, LOG_LEVEL: 'error' });
  });
  after(async () => {
    await second?.stop();
    await svc?.stop();
  });

  it('50 concurrent first reads on two server processes cause exactly one release', async () => {
    const urls = [svc.url, second.url];
    const bodies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        fetch(`${urls[i % 2]}/v1/metrics/visits_by_region`, { headers: { authorization: `Bearer ${DASH_KEY}` } }).then((r) => r.json() as Promise<MetricBody>),
      ),
    );
    expect(new Set(bodies.map((b) => b.id)).size).to.equal(1);
    expect(await releaseCount(svc.env.DATABASE_URL!)).to.deep.equal({ releases: 1, events: 1 });
  });
});

describe('noisy metrics with a renewing budget (pglite)', function () {
  this.timeout(120_000);
  it('turns stale when the period budget is spent and releases again in the next period', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 23, 9, 0, 0));
    const dir = policyDir({ 'clinic.yaml': (t) => t.replace('renew: never', 'renew: daily').replace('budget: { epsilon: 10 }', 'budget: { epsilon: 0.1 }') });
    const svc = await startService('pglite', { clock, env: { DPQ_POLICY_DIR: dir } });
    try {
      const read = async (): Promise<MetricBody> => (await (await svc.request('GET', '/v1/metrics/visits_by_region', { token: DASH_KEY })).json()) as MetricBody;
      const first = await read();
      clock.advance(HOUR + 1);
      expect((await read()).stale).to.equal(true);
      clock.advance(24 * HOUR);
      const next = await read();
      expect(next.stale).to.equal(false);
      expect(next.id).to.not.equal(first.id);
    } finally {
      await svc.stop();
    }
  });
});

describe('metric SQL is checked at start', function () {
  this.timeout(60_000);
  it('stops the start on a metric whose SQL is not allowed, naming the file and path', () => {
    const dir = policyDir({ 'clinic.yaml': (t) => t.replace('sql: SELECT region, COUNT(*) AS visits FROM visits GROUP BY region', 'sql: SELECT patient_id, COUNT(*) FROM visits GROUP BY patient_id') });
    const r = spawnSync(process.execPath, ['bin/dpq.js', 'serve'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', DPQ_POLICY_DIR: dir, DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none', DPQ_TOKEN_KEY: '55'.repeat(32) } });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/clinic\.yaml: metrics\.visits_by_region\.sql: .*unit column/i);
  });

  it('stops the start on a metric whose one release costs more than its budget', () => {
    const dir = policyDir({ 'clinic.yaml': (t) => t.replace('sql: SELECT region, COUNT(*) AS visits FROM visits GROUP BY region', 'sql: SELECT diagnosis, COUNT(*) FROM visits GROUP BY diagnosis') });
    const r = spawnSync(process.execPath, ['bin/dpq.js', 'serve'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', DPQ_POLICY_DIR: dir, DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none', DPQ_TOKEN_KEY: '55'.repeat(32) } });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/clinic\.yaml: metrics\.visits_by_region\.budget: one release costs ε=0\.1, δ=1e-7/);
  });
});
