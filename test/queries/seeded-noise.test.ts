/**
 * Seeded noise is predictable: config refuses it on a real warehouse unless explicitly allowed,
 * and while it is on the service says so on /readyz, in every release and in its audit entries.
 */
import { expect } from 'chai';
import { BACKENDS, startService, type TestService } from '../support/service.ts';

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
