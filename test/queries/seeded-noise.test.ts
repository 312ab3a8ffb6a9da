/**
 * Seeded noise is predictable: config refuses it on a real warehouse unless explicitly allowed,
 * and while it is on the service says so on /readyz, in every release and in its audit entries.
 */
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { BACKENDS, createDemoDatabase, spawnServer, startService, TEST_JWT_SECRET, type TestService } from '../support/service.ts';

interface Entry {
  action: string;
  outcome: string;
  details: Record<string, unknown> | null;
}

for (const backend of BACKENDS) {
  describe(`seeded noise is marked wherever it shows (${backend})`, function () {
    this.timeout(120_000);
    let seeded: TestService;
    let plain: TestService;
    before(async () => {
      seeded = await startService(backend, { env: { DPQ_NOISE_SEED: 'marked' } });
      plain = await startService(backend);
    });
    after(async () => {
      await seeded?.stop();
      await plain?.stop();
    });

    const ask = async (svc: TestService): Promise<{ privacy: Record<string, unknown> }> => {
      const res = await svc.request('POST', '/v1/queries', { principal: 'alice', body: { sql: 'SELECT COUNT(*) FROM visits', epsilon: 0.1 } });
      expect(res.status).to.equal(200);
      return (await res.json()) as { privacy: Record<string, unknown> };
    };

    it('says noise "seeded" on /readyz, in privacy.noise and in the audit entries of the release', async () => {
      expect(await (await seeded.request('GET', '/readyz')).json()).to.deep.include({ status: 'ready', noise: 'seeded' });
      expect((await ask(seeded)).privacy.noise).to.equal('seeded');
      const metric = await seeded.request('GET', '/v1/metrics/visits_by_region', { principal: 'alice' });
      expect(metric.status).to.equal(200);
      expect(((await metric.json()) as { privacy: Record<string, unknown> }).privacy.noise).to.equal('seeded');
      const log = (await (await seeded.request('GET', '/v1/audit?limit=100', { principal: 'carol' })).json()) as { entries: Entry[] };
      const releases = log.entries.filter((e) => e.action === 'query' || e.action === 'metric.release');
      expect(releases.length).to.be.at.least(4);
      for (const e of releases) expect(e.details?.noise, `${e.action} ${e.outcome}`).to.equal('seeded');
    });

    it('(control) says noise "crypto" and marks nothing without a seed', async () => {
      expect(await (await plain.request('GET', '/readyz')).json()).to.deep.include({ status: 'ready', noise: 'crypto' });
      expect((await ask(plain)).privacy).to.not.have.property('noise');
      const log = (await (await plain.request('GET', '/v1/audit?limit=100', { principal: 'carol' })).json()) as { entries: Entry[] };
      expect(log.entries.filter((e) => e.action === 'query').length).to.be.at.least(2);
      for (const e of log.entries) expect(e.details ?? {}).to.not.have.property('noise');
    });
  });
}

describe('seeded noise at start-up (a real dpq serve process)', function () {
  this.timeout(120_000);

  it('refuses a seed on PostgreSQL without DPQ_ALLOW_SEEDED_NOISE=1, and warns in the banner with it', async () => {
    const env = {
      DATABASE_URL: await createDemoDatabase(),
      DPQ_JWT_SECRET: TEST_JWT_SECRET,
      DPQ_TOKEN_KEY: '11'.repeat(32),
      DPQ_NOISE_SEED: 'demo',
      LOG_LEVEL: 'error',
    };
    const refused = spawnSync(process.execPath, ['bin/dpq.js', 'serve'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env, PORT: '0' } });
    expect(refused.status).to.equal(1);
    expect(refused.stderr).to.match(/cannot start: DPQ_NOISE_SEED: .*DPQ_ALLOW_SEEDED_NOISE=1/);
    const server = await spawnServer({ ...env, DPQ_ALLOW_SEEDED_NOISE: '1' });
    try {
      expect(server.output()).to.match(/WARNING: DPQ_NOISE_SEED is set: the noise is seeded and predictable/);
    } finally {
      await server.stop();
    }
  });
});
