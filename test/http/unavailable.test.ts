import { expect } from 'chai';
import { startProxy, type Proxy } from '../support/proxy.ts';
import { createDemoDatabase, startService, type TestService } from '../support/service.ts';

describe('warehouse and state store down (pg)', function () {
  this.timeout(120_000);
  let proxy: Proxy;
  let svc: TestService;

  before(async () => {
    const direct = new URL(await createDemoDatabase());
    proxy = await startProxy(Number(direct.port));
    direct.port = String(proxy.port);
    svc = await startService('pg', { env: { DATABASE_URL: direct.toString() } });
  });
  after(async () => {
    await svc?.stop();
    await proxy?.close();
  });

  it('reports 503 on /readyz while the database is unreachable, keeps running, and recovers', async () => {
    expect((await svc.request('GET', '/readyz')).status).to.equal(200);
    await proxy.down();
    const down = await svc.request('GET', '/readyz');
    expect(down.status).to.equal(503);
    expect(await down.json()).to.deep.include({ warehouse: 'unavailable', state: 'unavailable' });
    expect((await svc.request('GET', '/healthz')).status).to.equal(200);
    await proxy.up();
    expect((await svc.request('GET', '/readyz')).status).to.equal(200);
  });
});
